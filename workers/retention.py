"""Retention: messages older than RETENTION_DAYS are deleted; daily counts are kept.

Runs in batches (by id, a few thousand rows per transaction) so a large backlog
on PostgreSQL is cleared in bounded memory without long locks. Only finished
messages go: anything still owed (unanswered, unsent) is left for the sweeper.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select

from bot.models import InboundMessage, InboundStatus, MessageCount, OutboxMessage, OutboxStatus, utcnow
from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionReport:
    inbound_deleted: int
    outbox_deleted: int
    batches: int


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _purge(services: Services, model, time_col, id_col, final, direction: str, cutoff: datetime,
           batch: int) -> tuple[int, int]:
    deleted = batches = 0
    while True:
        with services.db.session() as session:
            ids = session.scalars(
                select(id_col).where(time_col < cutoff, final).order_by(id_col).limit(batch)
            ).all()
            if not ids:
                return deleted, batches
            grouped = session.execute(
                select(func.date(time_col), model.channel, func.count())
                .where(id_col.in_(ids)).group_by(func.date(time_col), model.channel)
            ).all()
            for day, channel, count in grouped:
                day = _as_date(day)
                row = session.scalars(select(MessageCount).where(
                    MessageCount.day == day, MessageCount.channel == channel,
                    MessageCount.direction == direction)).first()
                if row is None:
                    session.add(MessageCount(day=day, channel=channel, direction=direction, count=count))
                else:
                    row.count += count
            session.execute(delete(model).where(id_col.in_(ids)))
            deleted += len(ids)
            batches += 1


def purge_expired(services: Services, days: int | None = None, batch: int = 5000,
                  now: datetime | None = None) -> RetentionReport:
    keep = services.config.RETENTION_DAYS if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=keep)
    outbox, out_batches = _purge(services, OutboxMessage, OutboxMessage.created_at, OutboxMessage.id,
                                 OutboxMessage.status.not_in(OutboxStatus.OPEN), "out", cutoff, batch)
    inbound, in_batches = _purge(services, InboundMessage, InboundMessage.received_at, InboundMessage.id,
                                 InboundMessage.status.not_in(InboundStatus.PENDING), "in", cutoff, batch)
    report = RetentionReport(inbound, outbox, in_batches + out_batches)
    log.info("retention.done", extra={"inbound": inbound, "outbox": outbox, "days": keep})
    return report
