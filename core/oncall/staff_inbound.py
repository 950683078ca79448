"""Messages from staff numbers: an acknowledgement by SMS reply, never a person's message.

The worker asks here first, before it looks up or creates a contact, so a health worker
replying "42" to an alert takes case 42 and is never enrolled, answered by the bot, or
counted as someone the service supports. A reply without a number takes the one open,
untaken case this phone was alerted about, when there is exactly one.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.oncall import rota, staff, staff_text
from core.oncall.alerts import NOTICE_KIND, AckResult, acknowledge, owner_name, pending_rows, staff_sms
from core.tables import AuditEvent, CaseAlert, Escalation, InboundMessage

_CASE_NUMBER = re.compile(r"\d{1,9}")


def _only_alerted_case(session: Session, number_hash: str) -> int | None:
    ids = session.scalars(
        select(Escalation.id)
        .join(CaseAlert, CaseAlert.escalation_id == Escalation.id)
        .where(
            CaseAlert.recipient_hash == number_hash, Escalation.status == "open", Escalation.acknowledged_at.is_(None)
        )
        .distinct()
        .limit(2)
    ).all()
    return ids[0] if len(ids) == 1 else None


def handle(session: Session, services: Any, message: InboundMessage, text: str) -> bool:
    """Treat the message as staff's if it comes from a staff number; returns whether it did."""
    if not rota.is_staff_number(session, services, message.from_hash):
        return False
    user = staff.by_phone_hash(session, message.from_hash)
    user_id = user.id if user is not None and user.active else None
    locale = user.locale if user is not None else None
    number = services.cipher.decrypt(message.from_enc, b"phone")
    found = _CASE_NUMBER.search(text or "")
    case_id = int(found.group()) if found else _only_alerted_case(session, message.from_hash)
    result, case = (AckResult.MISSING, None)
    if case_id is not None:
        result, case = acknowledge(session, case_id, user_id, "sms", str(user_id) if user_id else "oncall-phone")
    base = services.config.PUBLIC_BASE_URL
    if result in (AckResult.TAKEN, AckResult.ALREADY_YOURS) and case is not None:
        reply = staff_text.taken(case.id, base, locale)
    elif result == AckResult.OWNED and case is not None:
        reply = staff_text.owned_by_other(case.id, owner_name(session, case, locale), locale)
    else:
        reply = staff_text.not_found(locale)
    rows = staff_sms(session, services, number, reply, NOTICE_KIND)
    pending_rows(session, services).outbox_ids.extend(row.id for row in rows)
    session.add(
        AuditEvent(
            actor=str(user_id) if user_id else "oncall-phone",
            action="staff_sms.received",
            detail={"inbound_id": message.id, "escalation_id": case_id, "result": result},
        )
    )
    return True
