"""The portal's migration creates exactly the tables the models describe, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

import bot.portal.models  # noqa: F401  (registers the users table)
import content.db  # noqa: F401  (registers the content tables)
from bot import migrate
from core.db import Base, make_engine

PORTAL_TABLES = {"users", "content_items", "content_versions", "content_review_comments"}


def test_the_migration_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name in PORTAL_TABLES:
            table.to_metadata(ours)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _only_ours})
        differences = compare_metadata(context, ours)
    engine.dispose()
    assert differences == []


def _only_ours(name, type_, _parent_names):
    return type_ != "table" or name in PORTAL_TABLES


def test_the_migration_downgrades_and_upgrades_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, "0002")
    from alembic import command

    command.downgrade(migrate.alembic_config(url), "0001")
    engine = make_engine(url)
    assert not PORTAL_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
    migrate.upgrade(url, "0002")
    engine = make_engine(url)
    assert PORTAL_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()
