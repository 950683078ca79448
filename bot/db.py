"""The web app's database adapter, in the role of flaskr's ``db.py``.

The engine, the declarative Base and the unit-of-work sessions live in ``core.db`` (no Flask),
shared with the workers. This module registers a Database on the app and gives each request one
session, closed on teardown.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from core.db import Database


def init_app(app: Flask, database: Database) -> None:
    """Register the database on the app and close the request's session on teardown."""
    app.extensions["tumaini.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_database() -> Database:
    return current_app.extensions["tumaini.db"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_database().new_session()
    return g.db_session
