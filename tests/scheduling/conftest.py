"""Fixtures for courses, check-ins and paced sending.

Scheduling depends on the person's local time, and these tests run at any hour,
so people are placed in a fixed-offset zone chosen to make *their* clock read
what the test needs right now (midday, or the middle of the night).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import Services
from core.tables import AuditEvent, Contact, CourseEnrollment, OutboxMessage, utcnow
from tests.conftest import make_config


def zone_at_local_hour(hour: int, now: datetime | None = None) -> str:
    """An Etc/GMT zone in which the local hour is ``hour`` right now (to the hour)."""
    now = now or datetime.now(UTC)
    offset = (hour - now.hour) % 24
    if offset > 14:
        offset -= 24  # Etc zones run from UTC-12 to UTC+14
    if offset == 0:
        return "UTC"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture()
def make_services(tmp_path: Path, database_url: str, redis_url: str, twilio_standin: Any,
                  starter_content: Any) -> Iterator[Callable[..., Services]]:
    """Services (as a worker holds them) with extra settings, installed for in-process jobs."""
    from workers import runtime

    made: list[Services] = []

    def build(install: bool = True, **overrides: Any) -> Services:
        overrides.setdefault("SENDER_RATE_PER_S", 500.0)  # pacing has its own tests; keep the rest quick
        config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                             TWILIO_API_BASE=twilio_standin.url, **overrides)
        services = Services(config)
        services.__dict__["library"] = starter_content
        if install:
            runtime.install(services)
        made.append(services)
        return services

    yield build
    for services in made:
        services.close()


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database, for modules whose logic does not depend on the backend
    (the tick and send modules run on PostgreSQL as well)."""
    from bot import migrate

    url = f"sqlite:///{tmp_path / 'tumaini.db'}"
    migrate.upgrade(url)
    return url


def add_contact(services: Services, phone: str, channel: str = "sms", locale: str = "en",
                **fields: Any) -> int:
    with services.db.session() as session:
        contact = Contact(phone_hash=services.pseudonymise(phone), phone_enc=services.cipher.encrypt(phone, b"phone"),
                          channel=channel, locale=locale, state={"flow": "menu"}, consent_version="test@1",
                          consented_at=utcnow(), **fields)
        session.add(contact)
        session.flush()
        return contact.id


def request(services: Services, contact_id: int, action: str, **detail: Any) -> None:
    """Store a schedule request the way a conversation turn does (an audit event)."""
    with services.db.session() as session:
        session.add(AuditEvent(actor="worker", action=action, contact_id=contact_id, detail=detail))


def enrol(services: Services, phone: str, course: str = "doing_what_matters", now: datetime | None = None,
          **contact_fields: Any) -> int:
    from workers.scheduling import ENROL, apply_requests

    contact_id = add_contact(services, phone, **contact_fields)
    request(services, contact_id, ENROL, course=course)
    apply_requests(services, contact_id, now)
    return contact_id


def enrollment_of(services: Services, contact_id: int) -> CourseEnrollment:
    with services.db.session() as session:
        return session.scalars(select(CourseEnrollment).where(CourseEnrollment.contact_id == contact_id)).one()


def set_due(services: Services, contact_id: int, due: datetime) -> None:
    with services.db.session() as session:
        enrollment = session.scalars(select(CourseEnrollment).where(CourseEnrollment.contact_id == contact_id)).one()
        enrollment.next_due_at = due


def rows_of(services: Services, contact_id: int | None = None) -> list[OutboxMessage]:
    with services.db.session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if contact_id is not None:
            query = query.where(OutboxMessage.contact_id == contact_id)
        return list(session.scalars(query))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
