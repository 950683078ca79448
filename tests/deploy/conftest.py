"""Fixtures for the deploy room: throwaway PostgreSQL databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, service_missing


@pytest.fixture()
def make_postgres_database() -> Iterator[Callable[..., str]]:
    """Create empty databases on the test server (optionally migrated); all dropped afterwards."""
    from bot import migrate

    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make(migrated: bool = True, create: bool = True) -> str:
        name = f"tumaini_deploy_{uuid.uuid4().hex[:10]}"
        if create:
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception as exc:  # any connection failure means: no PostgreSQL here
                service_missing(f"needs PostgreSQL at {POSTGRES_URL}: {type(exc).__name__}")
        created.append(name)
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
        if migrated:
            migrate.upgrade(url)
        return url

    yield make
    try:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture()
def self_signed(tmp_path) -> tuple:
    from tests.deploy.deploy_support import self_signed_certificate

    return self_signed_certificate(tmp_path)
