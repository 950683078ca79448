"""Who is alerted for a region at a moment: the rota's shifts, else ``ONCALL_NUMBERS``.

The ladder has three rungs: the on-call person (1), the backup (2), the supervisor (3).
A shift names a user for each; alerts go to the numbers on their accounts. With no shift
covering the moment, the configured numbers fill the rungs in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.oncall import staff
from core.oncall.numbers import e164
from core.tables import OncallShift

ONCALL, BACKUP, SUPERVISOR = 1, 2, 3
RUNGS = (ONCALL, BACKUP, SUPERVISOR)
RUNG_NAMES = {ONCALL: "on call", BACKUP: "backup", SUPERVISOR: "supervisor"}


@dataclass(frozen=True)
class Recipient:
    number: str
    number_hash: str
    user_id: int | None


def covering(session: Session, region: str, now: datetime) -> list[OncallShift]:
    """The region's shifts that cover ``now``, latest start first."""
    return list(
        session.scalars(
            select(OncallShift)
            .where(OncallShift.region == region, OncallShift.starts_at <= now, OncallShift.ends_at > now)
            .order_by(OncallShift.starts_at.desc(), OncallShift.id.desc())
        )
    )


def shift_spans(session: Session, region: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of the region's shifts that overlap [start, end), for staffed-time answers."""
    rows = session.execute(
        select(OncallShift.starts_at, OncallShift.ends_at).where(
            OncallShift.region == region, OncallShift.starts_at < end, OncallShift.ends_at > start
        )
    )
    return [(_aware(a), _aware(b)) for a, b in rows]


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def user_recipient(session: Session, services: Any, user_id: int | None) -> Recipient | None:
    if user_id is None:
        return None
    user = staff.by_id(session, user_id)
    if user is None or not user.active or user.phone_enc is None or user.phone_hash is None:
        return None
    return Recipient(services.cipher.decrypt(user.phone_enc, b"phone"), user.phone_hash, user.id)


def fallback_recipients(session: Session, services: Any) -> list[Recipient]:
    """``ONCALL_NUMBERS`` in order, each linked to the account that holds the number, if any."""
    found = []
    for raw in services.config.ONCALL_NUMBERS:
        number = e164(raw)
        digest = services.pseudonymise(number)
        user = staff.by_phone_hash(session, digest)
        found.append(Recipient(number, digest, user.id if user is not None and user.active else None))
    return found


def ladder(session: Session, services: Any, region: str, now: datetime) -> dict[int, list[Recipient]]:
    """Rung -> recipients, for the region at ``now`` (empty rungs are left out)."""
    rungs: dict[int, list[Recipient]] = {}
    shifts = covering(session, region, now)
    if shifts:
        for shift in shifts:
            for rung, user_id in (
                (ONCALL, shift.oncall_id),
                (BACKUP, shift.backup_id),
                (SUPERVISOR, shift.supervisor_id),
            ):
                recipient = user_recipient(session, services, user_id)
                if recipient is not None and all(r.number_hash != recipient.number_hash for r in rungs.get(rung, [])):
                    rungs.setdefault(rung, []).append(recipient)
    if not rungs.get(ONCALL):
        # Nobody on the rota can be reached now: the configured numbers take the rungs in order.
        fallback = fallback_recipients(session, services)
        for rung, recipient in zip(RUNGS, fallback, strict=False):
            rungs.setdefault(rung, [])
            if all(r.number_hash != recipient.number_hash for r in rungs[rung]):
                rungs[rung].append(recipient)
    return {rung: people for rung, people in rungs.items() if people}


def is_staff_number(session: Session, services: Any, number_hash: str) -> bool:
    """Whether a sender is a member of staff (an account's number or a configured on-call number)."""
    if staff.by_phone_hash(session, number_hash) is not None:
        return True
    return any(services.pseudonymise(e164(raw)) == number_hash for raw in services.config.ONCALL_NUMBERS)
