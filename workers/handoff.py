"""The worker's side of a person asking for a person, and of staff being in the conversation.

``case_for_turn`` tells the engine whether the person has an open case and whether its
owner is in the conversation now: the owner replied within ``STAFF_PRESENCE_S`` and neither
handed the conversation back (portal) nor did the person send MENU since. ``open_handoff``
writes the handoff case and its on-call alert in the turn's transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation.handoff import TO_CASE  # noqa: F401  (re-exported for workers.inbound)
from bot.conversation.types import CASE_OPEN, WITH_STAFF
from core.oncall import queue_case_alert
from core.tables import AuditEvent, CaseKind, Contact, Escalation, InboundMessage, OutboxMessage

log = logging.getLogger(__name__)

HANDOFF_SEVERITY = "handoff"
STAFF_REPLY = "staff_reply"
# Audit actions after which the bot answers again: the owner handed back, the person sent MENU.
HANDED_BACK = ("case.handed_back", "handoff_left")


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def case_for_turn(session: Session, config: Any, contact_id: int | None, now: datetime) -> str | None:
    """None (no open case), CASE_OPEN, or WITH_STAFF (the bot stays quiet)."""
    if contact_id is None:
        return None
    open_case = session.scalar(select(Escalation.id).where(Escalation.contact_id == contact_id,
                                                           Escalation.status == "open").limit(1))
    if open_case is None:
        return None
    if config.STAFF_PRESENCE_S <= 0:
        return CASE_OPEN
    last_reply = _aware(session.scalar(select(func.max(OutboxMessage.created_at)).where(
        OutboxMessage.contact_id == contact_id, OutboxMessage.kind == STAFF_REPLY)))
    if last_reply is None or last_reply < now - timedelta(seconds=config.STAFF_PRESENCE_S):
        return CASE_OPEN
    handed_back = _aware(session.scalar(select(func.max(AuditEvent.created_at)).where(
        AuditEvent.contact_id == contact_id, AuditEvent.action.in_(HANDED_BACK))))
    if handed_back is not None and handed_back >= last_reply:
        return CASE_OPEN
    return WITH_STAFF


PERSON_REPLIED = "case.person_replied"


def tell_owner(services: Any, session: Session, contact: Contact, now: datetime) -> None:
    """The person wrote while the case owner is in the conversation: the owner hears it by SMS,
    once after each of their replies (never the words, only the case and its link)."""
    from core.oncall import rota, staff_text
    from core.oncall.alerts import NOTICE_KIND, pending_rows, staff_sms

    case = session.scalars(select(Escalation).where(Escalation.contact_id == contact.id,
                                                    Escalation.status == "open")).first()
    if case is None:
        return
    last_reply = session.scalar(select(func.max(OutboxMessage.created_at)).where(
        OutboxMessage.contact_id == contact.id, OutboxMessage.kind == STAFF_REPLY))
    told = session.scalar(select(AuditEvent.id).where(
        AuditEvent.contact_id == contact.id, AuditEvent.action == PERSON_REPLIED,
        AuditEvent.created_at >= last_reply).limit(1)) if last_reply is not None else None
    if told is not None:
        return
    owner = rota.user_recipient(session, services, case.owner_id)
    session.add(AuditEvent(actor="worker", action=PERSON_REPLIED, contact_id=contact.id,
                           detail={"escalation_id": case.id, "told": owner is not None}))
    if owner is None:
        return  # an owner without a number reads it in the portal
    from core.oncall import staff

    member = staff.by_id(session, owner.user_id) if owner.user_id else None
    text = staff_text.person_replied(case.id, services.config.PUBLIC_BASE_URL, member.locale if member else None)
    rows = staff_sms(session, services, owner.number, text, NOTICE_KIND)
    pending_rows(session, services).outbox_ids.extend(row.id for row in rows)


def open_handoff(services: Any, session: Session, contact: Contact, message: InboundMessage) -> None:
    """The person asked for a person: a handoff case, alerted at its own (lower) severity and time.

    A person with an open case already reaches a person through it, so no second case opens.
    """
    existing = session.scalar(select(Escalation.id).where(Escalation.contact_id == contact.id,
                                                          Escalation.status == "open").limit(1))
    if existing is not None:
        return
    case = Escalation(contact_id=contact.id, inbound_id=message.id, severity=HANDOFF_SEVERITY, reason="handoff",
                      kind=CaseKind.HANDOFF, region=contact.region)
    session.add(case)
    log.info("handoff.opened", extra={"message_id": message.id})
    queue_case_alert(session, services, case)
