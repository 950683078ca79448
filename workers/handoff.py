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
