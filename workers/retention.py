"""Retention: messages older than RETENTION_DAYS are deleted; daily counts are kept.

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

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.services import Services
from core.tables import InboundMessage, InboundStatus, MessageCount, OutboxMessage, OutboxStatus, utcnow

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
    report = RetentionReport(inbound, outbox, in_batches + out_batches)
    log.info("retention.done", extra={"inbound": inbound, "outbox": outbox, "batches": report.batches,
                                      "days": keep})
    return report
