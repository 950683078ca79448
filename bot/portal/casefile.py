"""A person's conversation as a health worker sees it, and the staff actions on a case.

Bodies are decrypted here and only here, for a user allowed to see cases, and every
look is written to the audit log before anything is shown. Replies from staff go into
the outbox like any other reply (kind "staff_reply", content_ref "staff:<user id>"), so
they are sent in order, exactly once, through the normal sending path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.portal.errors import CaseError
from bot.portal.models import User
from bot.portal.roles import ADMIN
from core.oncall.alerts import AckResult, acknowledge, owner_name
from core.outbox import fill
from core.sms import compose, segment_info
from core.tables import AuditEvent, Contact, Escalation, InboundMessage, OutboxMessage, utcnow

SEVERITY_RANK = {"imminent": 0, "high": 1, "concern": 2}
OUTCOMES = ("reached_safe", "referred", "emergency_services", "no_response", "not_a_crisis", "other")
STAFF_REPLY = "staff_reply"
MAX_MESSAGES = 200


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def queue(session: Session, status: str = "open") -> list[Escalation]:
    """Cases by severity (imminent, high, concern, then anything else), oldest first within each."""
    rows = list(session.scalars(select(Escalation).where(Escalation.status == status)))
    if status == "open":
        rows.sort(key=lambda e: (SEVERITY_RANK.get(e.severity, len(SEVERITY_RANK)), _aware(e.opened_at), e.id))
    else:
        rows.sort(key=lambda e: _aware(e.closed_at or e.opened_at), reverse=True)
    return rows


@dataclass(frozen=True)
class Line:
    """One message in the conversation, decrypted for display."""

    at: datetime
    direction: str  # "in" (from the person) or "out"
    text: str
    locale: str | None
    label: str  # "", "generated", "staff", or the content reference
    content_ref: str | None
    status: str
    staff_id: int | None = None


def _label(row: OutboxMessage) -> tuple[str, int | None]:
    ref = row.content_ref or ""
    if row.kind == STAFF_REPLY or ref.startswith("staff:"):
        staff = ref.removeprefix("staff:")
        return "staff", int(staff) if staff.isdigit() else None
    if row.kind == "generated" or ref.startswith("generated"):
        return "generated", None
    return ("content" if ref else ""), None


def conversation(session: Session, cipher: Any, contact: Contact, viewer: User, reason: dict[str, Any]) -> list[Line]:
    """The person's messages both ways, oldest first; records that ``viewer`` looked."""
    session.add(AuditEvent(actor=str(viewer.id), action="conversation.viewed", contact_id=contact.id, detail=reason))
    session.flush()
    inbound = session.scalars(
        select(InboundMessage)
        .where(or_(InboundMessage.contact_id == contact.id, InboundMessage.from_hash == contact.phone_hash))
        .order_by(InboundMessage.id.desc())
        .limit(MAX_MESSAGES)
    ).all()
    outbound = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.contact_id == contact.id)
        .order_by(OutboxMessage.id.desc())
        .limit(MAX_MESSAGES)
    ).all()
    lines = [
        Line(
            _aware(m.received_at),
            "in",
            cipher.decrypt(m.body_enc, b"body") if m.body_enc else "",
            contact.locale,
            "",
            None,
            m.status,
        )
        for m in inbound
    ]
    for row in outbound:
        label, staff = _label(row)
        lines.append(
            Line(
                _aware(row.created_at),
                "out",
                cipher.decrypt(row.body_enc, b"body") if row.body_enc else "",
                row.locale,
                label,
                row.content_ref,
                row.status,
                staff,
            )
        )
    lines.sort(key=lambda line: line.at)
    return lines[-MAX_MESSAGES:]


def reveal_phone(session: Session, cipher: Any, contact: Contact, viewer: User, escalation_id: int) -> str:
    """The person's number, for a health worker who must call; the look is audited."""
    session.add(
        AuditEvent(
            actor=str(viewer.id),
            action="phone.revealed",
            contact_id=contact.id,
            detail={"escalation_id": escalation_id},
        )
    )
    session.flush()
    return cipher.decrypt(contact.phone_enc, b"phone")


@dataclass(frozen=True)
class ReplyPlan:
    """What a reply will cost and look like on the person's channel, before it is confirmed."""

    parts: list[str]
    segments: int
    encoding: str


def plan_reply(text: str, channel: str, segment_budget: int) -> ReplyPlan:
    if not text.strip():
        raise CaseError(_("The reply is empty."))
    parts = compose(text.strip(), "whatsapp" if channel == "whatsapp" else "sms", segment_budget)
    infos = [segment_info(part) for part in parts]
    encoding = "UCS-2" if any(i.encoding == "UCS-2" for i in infos) else "GSM-7"
    return ReplyPlan(parts, sum(i.segments for i in infos), encoding)


def store_reply(
    session: Session, cipher: Any, escalation: Escalation, contact: Contact, staff: User, text: str, segment_budget: int
) -> list[int]:
    """Put a confirmed reply in the outbox; returns the new row ids (the caller queues them)."""
    if contact.opted_out:
        raise CaseError(_("This person has opted out; the service must not message them."))
    plan = plan_reply(text, contact.channel, segment_budget)
    take(session, escalation, staff)
    rows = [
        fill(OutboxMessage(contact_id=contact.id, inbound_id=escalation.inbound_id, channel=contact.channel,
                           content_ref=f"staff:{staff.id}", locale=contact.locale, kind=STAFF_REPLY), part, cipher)
        for part in plan.parts
    ]
    session.add_all(rows)
    session.add(
        AuditEvent(
            actor=str(staff.id),
            action="staff_reply.queued",
            contact_id=contact.id,
            detail={"escalation_id": escalation.id, "parts": len(rows)},
        )
    )
    if escalation.first_reply_at is None:
        escalation.first_reply_at = utcnow()
    session.flush()
    return [row.id for row in rows]


def take(session: Session, escalation: Escalation, staff: User) -> None:
    """Make ``staff`` the owner ("I'm on it"); replying to an untaken case takes it too.

    One conditional update decides: two health workers can never both own a case. An admin
    may still act on a case someone else owns (for cover); everyone else is told who owns it.
    """
    if escalation.status == "open" and escalation.acknowledged_at is None:
        result, _case = acknowledge(session, escalation.id, staff.id, "portal", str(staff.id))
        session.refresh(escalation)
        if result == AckResult.TAKEN:
            return
    if escalation.owner_id not in (None, staff.id) and staff.role != ADMIN:
        raise CaseError(_("%(owner)s owns this case.", owner=owner_name(session, escalation)))


HANDED_BACK = "case.handed_back"  # read by workers.handoff: the bot answers the person again


def hand_back(session: Session, escalation: Escalation, staff: User) -> None:
    """The health worker leaves the conversation: the bot answers the person again (the case stays
    open). While a worker is in it (their reply within STAFF_PRESENCE_S), the bot stays quiet."""
    if escalation.status != "open" or escalation.contact_id is None:
        raise CaseError(_("This case is already closed."))
    take(session, escalation, staff)
    session.add(
        AuditEvent(
            actor=str(staff.id),
            action=HANDED_BACK,
            contact_id=escalation.contact_id,
            detail={"escalation_id": escalation.id},
        )
    )


def _hand_back(session: Session, escalation: Escalation) -> None:
    """Closing the person's last open case resumes their automated content (courses, check-ins)."""
    if escalation.contact_id is None:
        return
    still_open = session.scalar(
        select(Escalation.id).where(Escalation.contact_id == escalation.contact_id, Escalation.status == "open",
                                    Escalation.id != escalation.id).limit(1))
    if still_open is None:
        contact = session.get(Contact, escalation.contact_id)
        if contact is not None:
            contact.paused = False


def close(session: Session, escalation: Escalation, staff: User, outcome: str) -> None:
    if escalation.status != "open":
        raise CaseError(_("This case is already closed."))
    if outcome not in OUTCOMES:
        raise CaseError(_("Choose an outcome."))
    escalation.status, escalation.outcome = "closed", outcome
    escalation.closed_at, escalation.closed_by = utcnow(), str(staff.id)
    _hand_back(session, escalation)
    session.add(
        AuditEvent(
            actor=str(staff.id),
            action="escalation.closed",
            contact_id=escalation.contact_id,
            detail={"escalation_id": escalation.id, "outcome": outcome},
        )
    )


PREVIEW_CHARS = 60
_NUMBERS = re.compile(r"\+?\d[\d\s().-]{3,}\d")
_ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|www\.\S+", re.IGNORECASE)


def safe_preview(text: str) -> str:
    """A short look at what the person wrote, for the queue: numbers and addresses hidden, one line."""
    flat = " ".join(text.split())
    flat = _ADDRESSES.sub("[…]", _NUMBERS.sub("[…]", flat))
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1].rstrip() + "…"


def previews(session: Session, cipher: Any, cases: list[Escalation], viewer: User) -> dict[int, str]:
    """Case id -> a safe preview of the message that opened (or last raised) it; the look is audited."""
    ids = {case.inbound_id: case.id for case in cases if case.inbound_id}
    if not ids:
        return {}
    rows = session.execute(select(InboundMessage.id, InboundMessage.body_enc).where(InboundMessage.id.in_(ids)))
    found = {ids[row.id]: safe_preview(cipher.decrypt(row.body_enc, b"body")) for row in rows if row.body_enc}
    if found:
        session.add(AuditEvent(actor=str(viewer.id), action="cases.previewed", detail={"escalation_ids": sorted(found)}))
    return found
