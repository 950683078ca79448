"""Migration 0005 (accepted locales) upgrades, backfills and downgrades on SQLite and PostgreSQL.

PostgreSQL runs in a throwaway database of its own, since the session's shared
one must stay at head for every other test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text

from bot import migrate
from core.db import Base, make_engine
from tests.conftest import throwaway_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    with throwaway_postgres("tumaini_migration") as url:
        yield url


def contact_columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("contacts")}
    finally:
        engine.dispose()


def add_contact(url: str, phone_hash: str, locale: str | None) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO contacts (phone_hash, phone_enc, channel, locale, opted_out, paused, state, created_at)"
            " VALUES (:h, :e, 'sms', :l, false, false, '{}', CURRENT_TIMESTAMP)"), {"h": phone_hash, "e": b"x",
                                                                                     "l": locale})
    engine.dispose()


def test_0005_adds_accepted_locales_backfills_chosen_ones_and_downgrades(empty_database):
    url = empty_database
    migrate.upgrade(url, "0004")
    assert "accepted_locales" not in contact_columns(url)
    add_contact(url, "chose-swahili", "sw")
    add_contact(url, "never-chose", None)

    migrate.upgrade(url, "0005")
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT phone_hash, accepted_locales FROM contacts")).all())
    engine.dispose()
    assert stored == {"chose-swahili": "sw", "never-chose": None}

    command.downgrade(migrate.alembic_config(url), "0004")
    assert "accepted_locales" not in contact_columns(url)
    assert {"locale", "region", "time_zone"} <= contact_columns(url)
    migrate.upgrade(url)
    assert "accepted_locales" in contact_columns(url)


def test_the_contacts_table_after_migrating_matches_the_model(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    Base.metadata.tables["contacts"].to_metadata(ours)
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, type_, _parents: type_ != "table" or name == "contacts"})
        differences = compare_metadata(context, ours)
    engine.dispose()
    assert differences == []
