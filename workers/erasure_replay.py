"""After a restore: erase again everyone the erasure ledger names who is back in the database.

A backup made before someone's DELETE still holds them. The ledger (core.erasure_ledger) is
kept outside the database and its backups, so it still names them; this finds each one by
their contact key and erases them again through the normal path (workers.erasure), without
telling anyone a second time. It is idempotent: a second run finds nobody left to erase.

Who counts as "back": a contact with that key created no later than the contact the ledger
recorded erasing (a backup holds the same row, with the same ``created_at``). Someone who
wrote again after their erasure is a new contact, created later, and is kept: they came
back of their own accord. Stored messages from the key that no contact holds yet (a backup
made before the worker answered them) and that arrived before the erasure go too, or a
worker would answer them and bring the person back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from bot.services import Services
from core.erasure_ledger import ErasureLedger, LedgerEntry, LedgerProblem
from core.tables import Contact, ErasureRequest, Escalation, InboundMessage, OutboxMessage, utcnow
from workers.erasure import erase_again

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class LedgerReport:
    """What one ledger file held: counts and the numbers of its broken lines, never its keys."""

    path: str
    found: bool
    entries: int
    problems: list[LedgerProblem]


@dataclass
class ReplayReport:
    ledgers: list[LedgerReport] = field(default_factory=list)
    people: int = 0  # distinct contact keys in the ledgers
    erased: int = 0  # back in the database, erased again
    gone: int = 0  # not in the database: nothing to do
    kept: int = 0  # in the database as someone who wrote again after their erasure
    stray_messages: int = 0  # stored messages, not yet tied to a contact, erased

    @property
    def problems(self) -> int:
        return sum(len(ledger.problems) for ledger in self.ledgers)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def replay(services: Services, ledgers: Sequence[ErasureLedger]) -> ReplayReport:
    """Read every ledger (each line checked), then erase again whoever is back; broken lines are
    reported in the result and never acted on."""
    report = ReplayReport()
    entries: list[LedgerEntry] = []
    for ledger in ledgers:
        reading = ledger.read()
        report.ledgers.append(LedgerReport(str(ledger.path), reading.exists, len(reading.entries), reading.problems))
        entries.extend(reading.entries)
    since: dict[str, datetime] = {}
    erased_at: dict[str, datetime] = {}
    for entry in entries:
        since[entry.contact] = max(since.get(entry.contact, _utc(entry.since)), _utc(entry.since))
        erased_at[entry.contact] = max(erased_at.get(entry.contact, _utc(entry.at)), _utc(entry.at))
    keys = sorted(since)
    report.people = len(keys)
    present: set[str] = set()
    for chunk in _chunks(keys, BATCH):
        with services.db.session() as session:
            rows = session.execute(select(Contact.id, Contact.phone_hash, Contact.created_at)
                                   .where(Contact.phone_hash.in_(chunk))).all()
        for row in rows:
            present.add(row.phone_hash)
            if _utc(row.created_at) <= since[row.phone_hash]:
                erase_again(services, row.id)
                report.erased += 1
            else:
                report.kept += 1
    missing = [key for key in keys if key not in present]
    report.gone = len(missing)
    report.stray_messages = _erase_stray_messages(services, missing, erased_at)
    log.info("erasure.replayed", extra={"people": report.people, "erased": report.erased, "kept": report.kept,
                                        "stray_messages": report.stray_messages, "problems": report.problems})
    return report


def _erase_stray_messages(services: Services, keys: Sequence[str], erased_at: dict[str, datetime]) -> int:
    """Messages from an erased key that no contact holds yet, stored before the erasure."""
    total = 0
    for chunk in _chunks(keys, BATCH):
        with services.db.session() as session:
            rows = session.execute(select(InboundMessage.id, InboundMessage.from_hash, InboundMessage.received_at,
                                          InboundMessage.message_sid)
                                   .where(InboundMessage.from_hash.in_(chunk), InboundMessage.contact_id.is_(None))
                                   ).all()
            stray = [row for row in rows if _utc(row.received_at) <= erased_at[row.from_hash]]
            if not stray:
                continue
            ids = [row.id for row in stray]
            session.execute(update(Escalation).where(Escalation.inbound_id.in_(ids)).values(inbound_id=None))
            session.execute(update(OutboxMessage).where(OutboxMessage.inbound_id.in_(ids)).values(inbound_id=None))
            session.execute(delete(InboundMessage).where(InboundMessage.id.in_(ids)))
            now = utcnow()
            # Twilio's copies go too: the sweeper deletes them once workers run.
            session.add(ErasureRequest(contact_id=None, due_at=now, done_at=now, attempts=0,
                                       provider_sids=[row.message_sid for row in stray if row.message_sid],
                                       removed={"inbound": len(stray), "replayed": 1}))
            total += len(stray)
    return total
