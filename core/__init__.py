"""Tumaini's Flask-free core: what the web app and the workers both stand on.

The SQLAlchemy Base and tables, the outbox, SMS segment arithmetic, encryption and
pseudonymisation, configuration and queue names. It imports neither ``bot`` (the web app) nor
``workers``.
"""
