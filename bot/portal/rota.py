"""The on-call rota and staff numbers, as the portal edits them.

Shift times are entered in the region's own time and stored in UTC. A staff number is
stored like every number: sealed, with a keyed HMAC so a reply from it is recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.portal.errors import RotaError
from bot.portal.models import User
from bot.portal.roles import CASES_ACT, can
from core.oncall.numbers import InvalidNumber, e164
from core.tables import AuditEvent, OncallShift

MAX_SHIFT = timedelta(days=7)


@dataclass(frozen=True)
class ShiftView:
    shift: OncallShift
    starts_local: datetime
    ends_local: datetime
    current: bool


def set_phone(session: Session, services: Any, user: User, raw: str, actor: User) -> None:
    """Store (or clear, with an empty value) the number alerts go to for ``user``."""
    if not raw.strip():
        user.phone_hash, user.phone_enc = None, None
    else:
        try:
            number = e164(raw)
        except InvalidNumber:
            raise RotaError(_("Give the number in international form, like +254700000001.")) from None
        digest = services.pseudonymise(number)
        other = session.scalar(select(User.id).where(User.phone_hash == digest, User.id != user.id))
        if other is not None:
            raise RotaError(_("Another account already has this number."))
        user.phone_hash, user.phone_enc = digest, services.cipher.encrypt(number, b"phone")
    session.add(
        AuditEvent(
            actor=str(actor.id), action="staff.phone_set", detail={"user_id": user.id, "cleared": not raw.strip()}
        )
    )


def masked_phone(services: Any, user: User) -> str:
    """The last digits only, so a list of staff does not become a list of numbers."""
    if user.phone_enc is None:
        return ""
    number = services.cipher.decrypt(user.phone_enc, b"phone")
    return "…" + number[-3:]


def _local(value: str, tz: ZoneInfo) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RotaError(_("Give the start and end as a date and time.")) from None
    return parsed.replace(tzinfo=tz).astimezone(UTC)


def _staff(session: Session, raw: str, required: bool) -> int | None:
    if not raw.strip():
        if required:
            raise RotaError(_("Choose who is on call."))
        return None
    user = session.get(User, int(raw)) if raw.strip().isdigit() else None
    if user is None or not user.active or not can(user.role, CASES_ACT):
        raise RotaError(_("Only active health workers and admins can be on the rota."))
    return user.id


def add_shift(session: Session, region: str, tz: ZoneInfo, form: dict[str, str], actor: User) -> OncallShift:
    starts, ends = _local(form.get("starts", ""), tz), _local(form.get("ends", ""), tz)
    if ends <= starts:
        raise RotaError(_("A shift must end after it starts."))
    if ends - starts > MAX_SHIFT:
        raise RotaError(_("A shift can last at most 7 days."))
    shift = OncallShift(
        region=region,
        starts_at=starts,
        ends_at=ends,
        oncall_id=_staff(session, form.get("oncall", ""), True),
        backup_id=_staff(session, form.get("backup", ""), False),
        supervisor_id=_staff(session, form.get("supervisor", ""), False),
        created_by=actor.id,
    )
    session.add(shift)
    session.flush()
    session.add(
        AuditEvent(
            actor=str(actor.id),
            action="rota.shift_added",
            detail={
                "shift_id": shift.id,
                "region": region,
                "oncall": shift.oncall_id,
                "backup": shift.backup_id,
                "supervisor": shift.supervisor_id,
            },
        )
    )
    return shift


def upcoming(session: Session, region: str, tz: ZoneInfo, now: datetime, days: int = 14) -> list[ShiftView]:
    rows = session.scalars(
        select(OncallShift)
        .where(
            OncallShift.region == region, OncallShift.ends_at > now, OncallShift.starts_at < now + timedelta(days=days)
        )
        .order_by(OncallShift.starts_at)
    )
    views = []
    for shift in rows:
        start = shift.starts_at if shift.starts_at.tzinfo else shift.starts_at.replace(tzinfo=UTC)
        end = shift.ends_at if shift.ends_at.tzinfo else shift.ends_at.replace(tzinfo=UTC)
        views.append(ShiftView(shift, start.astimezone(tz), end.astimezone(tz), start <= now < end))
    return views
