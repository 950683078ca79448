"""Retention: messages older than RETENTION_DAYS are deleted; daily counts are kept. Health
data has its own retention, HEALTH_RETENTION_DAYS (see :func:`purge_health` and core.health).

Runs in batches, one short transaction each, so a large backlog on PostgreSQL is cleared
in bounded memory without long locks. Each batch is one statement that deletes the next
few thousand finished rows by id (continuing after the last id deleted, so no batch
re-reads what earlier ones cleared) and returns their day and channel; the day's counts
are added to in the same transaction, so a crash loses neither a count nor a row. Rows a
worker holds are skipped (SKIP LOCKED) rather than waited for. Only finished messages
go: anything still owed (unanswered, unsent) is left for the sweeper.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.services import Services
from core import health
from core.tables import (
    AuditEvent,
    Contact,
    Escalation,
    InboundMessage,
    InboundStatus,
    MessageCount,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    inbound_deleted: int
    outbox_deleted: int
    batches: int
    states_dropped: int = 0
    states_sealed: int = 0
    health_events_aggregated: int = 0
    cases_unlinked: int = 0


@dataclass(frozen=True)
class HealthReport:
    states_dropped: int
    states_sealed: int
    events_aggregated: int
    cases_unlinked: int


# Audit events about a case that name the person; they go with the case's link to them.
CASE_EVENTS = ("case.alerted", "case.acknowledged", "case.raised", "case.person_replied", "escalation.closed",
               "staff_reply.queued", "phone.revealed", "conversation.viewed", "staff_sms.received")


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _add_counts(session: Session, counts: Counter[tuple[date, str]], direction: str, sqlite: bool) -> None:
    """Add to each day's count (an upsert: safe if two purges ever overlap)."""
    insert = sqlite_insert if sqlite else pg_insert
    for (day, channel), count in counts.items():
        statement = insert(MessageCount).values(day=day, channel=channel, direction=direction, count=count)
        session.execute(statement.on_conflict_do_update(
            index_elements=["day", "channel", "direction"],
            set_={"count": MessageCount.count + statement.excluded.count},
        ))


def _purge(services: Services, model: Any, time_col: Any, id_col: Any, final: Any, direction: str,
           cutoff: datetime, batch: int) -> tuple[int, int]:
    sqlite = services.db.is_sqlite
    deleted = batches = 0
    after = 0
    while True:
        doomed = select(id_col).where(id_col > after, time_col < cutoff, final).order_by(id_col).limit(batch)
        if not sqlite:
            doomed = doomed.with_for_update(skip_locked=True)
        started = time.perf_counter()
        with services.db.session() as session:
            gone = session.execute(
                delete(model).where(id_col.in_(doomed.scalar_subquery()))
                .returning(id_col, func.date(time_col), model.channel)
                .execution_options(synchronize_session=False)
            ).all()
            if not gone:
                return deleted, batches
            _add_counts(session, Counter((_as_date(day), channel) for _id, day, channel in gone), direction, sqlite)
        deleted += len(gone)
        batches += 1
        after = max(row[0] for row in gone)
        log.debug("retention.batch", extra={"direction": direction, "rows": len(gone),
                                            "seconds": round(time.perf_counter() - started, 3)})
        if len(gone) < batch:
            return deleted, batches


def purge_expired(services: Services, days: int | None = None, batch: int = 5000,
                  now: datetime | None = None) -> RetentionReport:
    keep = services.config.RETENTION_DAYS if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=keep)
    # Replies first, so few outbox rows are left pointing at the inbound rows deleted next.
    outbox, out_batches = _purge(services, OutboxMessage, OutboxMessage.created_at, OutboxMessage.id,
                                 OutboxMessage.status.not_in(OutboxStatus.OPEN), "out", cutoff, batch)
    inbound, in_batches = _purge(services, InboundMessage, InboundMessage.received_at, InboundMessage.id,
                                 InboundMessage.status.not_in(InboundStatus.PENDING), "in", cutoff, batch)
    kept = purge_health(services, now=now, batch=batch)
    report = RetentionReport(inbound, outbox, in_batches + out_batches, kept.states_dropped, kept.states_sealed,
                             kept.events_aggregated, kept.cases_unlinked)
    log.info("retention.done", extra={"inbound": inbound, "outbox": outbox, "batches": report.batches,
                                      "days": keep})
    return report


def _drop_states(services: Services, cutoff: datetime, batch: int) -> tuple[int, int]:
    """Drop the state of people silent since the cutoff; seal any state still in clear."""
    with services.db.session() as session:
        dropped = session.execute(
            update(Contact).where(Contact.last_inbound_at < cutoff, Contact.state_enc.is_not(None))
            .values(state_enc=None, state={}).execution_options(synchronize_session=False)).rowcount
    sealed = 0
    clear = cast(Contact.state, String).not_in(["{}", "null"])
    while True:
        with services.db.session() as session:
            contacts = session.scalars(select(Contact).where(Contact.state_enc.is_(None), Contact.state.is_not(None),
                                                             clear).limit(batch).with_for_update()).all()
            for contact in contacts:
                seen = contact.last_inbound_at
                if seen is not None and _aware(seen) >= cutoff:
                    health.store_state(services.cipher, contact, health.open_state(services.cipher, contact))
                    sealed += 1
                else:
                    contact.state = {}
                    dropped += 1
        if len(contacts) < batch:
            return dropped, sealed


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def _aggregate_events(services: Services, cutoff: datetime, batch: int) -> int:
    """Health events past the cutoff become unlinked aggregates of their day (no score, no person)."""
    done = 0
    after = 0
    while True:
        with services.db.session() as session:
            events = session.scalars(
                select(AuditEvent).where(AuditEvent.id > after, AuditEvent.created_at < cutoff,
                                         or_(AuditEvent.action == health.HEALTH, AuditEvent.contact_id.is_not(None)
                                             & or_(*(AuditEvent.action.startswith(p) for p in health.HEALTH_PREFIXES))))
                .order_by(AuditEvent.id).limit(batch)).all()
            for event in events:
                action, detail = health.open_event(services.cipher, event.action, event.detail)
                if action == health.HEALTH:
                    action = health.ERASED  # stripped by an erasure: nothing left to open
                event.action, event.detail = action, health.aggregate(action, detail)
                event.contact_id, event.created_at = None, health.day_of(_aware(event.created_at))
            done += len(events)
        if len(events) < batch:
            return done
        after = events[-1].id


def _unlink_cases(services: Services, cutoff: datetime, batch: int) -> int:
    """Closed cases past the cutoff keep their severity and outcome, linked to nobody."""
    unlinked = 0
    while True:
        with services.db.session() as session:
            cases = session.scalars(select(Escalation).where(Escalation.status == "closed",
                                                             Escalation.closed_at < cutoff,
                                                             Escalation.contact_id.is_not(None))
                                    .limit(batch).with_for_update()).all()
            for case in cases:
                for event in session.scalars(select(AuditEvent).where(AuditEvent.contact_id == case.contact_id,
                                                                      AuditEvent.action.in_(CASE_EVENTS))):
                    if (event.detail or {}).get("escalation_id") == case.id:
                        event.contact_id = None
                case.contact_id, case.inbound_id = None, None
            unlinked += len(cases)
        if len(cases) < batch:
            return unlinked


def purge_health(services: Services, now: datetime | None = None, batch: int = 1000) -> HealthReport:
    """Apply HEALTH_RETENTION_DAYS: states dropped, health events aggregated, closed cases unlinked."""
    cutoff = (now or utcnow()) - timedelta(days=services.config.HEALTH_RETENTION_DAYS)
    dropped, sealed = _drop_states(services, cutoff, batch)
    report = HealthReport(dropped, sealed, _aggregate_events(services, cutoff, batch),
                          _unlink_cases(services, cutoff, batch))
    log.info("retention.health", extra={"states_dropped": report.states_dropped, "states_sealed": report.states_sealed,
                                        "events": report.events_aggregated, "cases": report.cases_unlinked,
                                        "days": services.config.HEALTH_RETENTION_DAYS})
    return report
