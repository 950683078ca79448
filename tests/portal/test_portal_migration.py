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
REVIEW_TABLES = {"review_rounds", "content_signoffs"}  # co-design review, migration 0010


def test_the_migration_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name in PORTAL_TABLES | REVIEW_TABLES:
            table.to_metadata(ours)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _only_ours})
        differences = compare_metadata(context, ours)
    engine.dispose()
    assert differences == []


def _only_ours(name, type_, _parent_names):
    return type_ != "table" or name in PORTAL_TABLES | REVIEW_TABLES


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


def test_the_review_migration_keeps_existing_comments_and_can_be_undone(tmp_path):
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, "0009_erasure")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO content_items (id, kind, source_locale, created_at, updated_at) "
                "VALUES ('menu.main', 'message', 'en', '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO content_versions (id, item_id, locale, version, status, sms, author, co_design, "
                "cultural_adaptation, lived_experience_signoff, clinical_reviewer, language_reviewer, "
                "evidence_sources, notes, origin, editors, created_at, updated_at) VALUES (1, 'menu.main', 'sw', 1, "
                "'draft', 'Habari', '', '', '', '', '', '', '[]', '', 'library', '[]', '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO content_review_comments (version_id, author_id, action, body, created_at) "
                "VALUES (1, 7, 'comment', 'Nzuri', '2026-01-02')"
            )
        )
    engine.dispose()
    migrate.upgrade(url, "0010")
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT body, author_name, source, parent_id, round_id FROM content_review_comments")
        ).one()
    assert tuple(row) == ("Nzuri", "", "portal", None, None)
    assert REVIEW_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()
    command.downgrade(migrate.alembic_config(url), "0009_erasure")
    engine = make_engine(url)
    assert not REVIEW_TABLES & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM content_review_comments")).scalar_one() == "Nzuri"
    engine.dispose()
