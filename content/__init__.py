"""What Tumaini says: the content model, its loader and validator, and the starter library.

Import the pieces you need (``content.store``, ``content.loader``...); nothing is loaded
at import time.
"""
