"""Health data at rest: a person's conversation state and the audit trail's health events.

Three things about a person are health data: the answers of a screening in progress (in their
conversation state), their screening scores and bands, and the crisis flags the safety gate
raised. None of them is stored in clear while it is linked to the person:

- the conversation state is sealed whole in ``contacts.state_enc`` (AES-GCM, context
  b"state"); the clear ``contacts.state`` column stays empty;
- a health event (``crisis:high``, ``screening_completed``, ``safety.concern``, a crisis or
  screening reply composed) is written as action ``health`` with its real action and detail
  sealed (context b"audit"), so neither the flag nor the score shows in the audit trail or
  its export.

They have their own retention, ``HEALTH_RETENTION_DAYS`` (workers.retention): after it, a
sealed state is dropped (the person comes back to the menu), a health event becomes an
unlinked aggregate (its action, and the instrument, band or content id only: no score, no
rule, no person, the day only), and a closed case is unlinked from the person.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime
from typing import Any

from core.crypto import Cipher
from core.exceptions import DecryptionError
from core.tables import AuditEvent, Contact, utcnow

log = logging.getLogger(__name__)

HEALTH = "health"  # the action a sealed health event is stored under
ERASED = "health.erased"  # a sealed event whose seal an erasure removed, once past its retention
UNREADABLE = "health.unreadable"  # a sealed event under a key no longer configured
SEALED = "sealed"  # the detail key holding the sealed (action, detail)
# Actions that say something about a person's health (the engine's events and audit entries).
HEALTH_PREFIXES = ("crisis", "screening", "safety")
# What an aggregate keeps once the event is past its retention and linked to nobody.
AGGREGATE_KEYS = ("instrument", "band", "content", "kind")
_STATE, _AUDIT = b"state", b"audit"


def is_health(action: str, detail: dict[str, Any]) -> bool:
    """A health event: a crisis, screening or safety action, or a crisis or screening reply sent."""
    content = str(detail.get("content") or "")
    return action.startswith(HEALTH_PREFIXES) or content.startswith(HEALTH_PREFIXES) or detail.get("kind") == "crisis"


def seal_state(cipher: Cipher, state: dict[str, Any]) -> bytes | None:
    """The state as stored: sealed, or None when there is nothing to keep."""
    return cipher.encrypt(json.dumps(state, sort_keys=True), _STATE) if state else None


def open_state(cipher: Cipher, contact: Contact) -> dict[str, Any]:
    """The person's conversation state.

    A state sealed under a key since removed is dropped (the person is back at the menu, a
    screening starts again) rather than failing the turn. A state written before whole-state
    sealing is read as it was, its sealed answers (the ``sealed`` field) opened.
    """
    if contact.state_enc:
        try:
            return dict(json.loads(cipher.decrypt(contact.state_enc, _STATE)))
        except (DecryptionError, ValueError):
            log.warning("state.unseal_failed", extra={"contact_id": contact.id})
            return {}
    state = dict(contact.state or {})
    blob = state.pop(SEALED, None)
    if isinstance(blob, str):
        try:
            state.update(json.loads(cipher.decrypt(base64.b64decode(blob), _STATE)))
        except (DecryptionError, ValueError):
            log.warning("state.unseal_failed", extra={"contact_id": contact.id})
    return state


def store_state(cipher: Cipher, contact: Contact, state: dict[str, Any]) -> None:
    contact.state_enc = seal_state(cipher, state)
    contact.state = {}


def event(cipher: Cipher, actor: str, action: str, contact_id: int | None, detail: dict[str, Any]) -> AuditEvent:
    """An audit event. A health event about a person has its action and detail sealed; one
    recorded without the person (a screening completion, for reports) is written as an
    aggregate straight away: the instrument and band only, and the day, not the moment, so no
    timestamp ties it back to the person's other events."""
    if not is_health(action, detail):
        return AuditEvent(actor=actor, action=action, contact_id=contact_id, detail=detail)
    if contact_id is None:
        return AuditEvent(actor=actor, action=action, contact_id=None, detail=aggregate(action, detail),
                          created_at=day_of(utcnow()))
    blob = cipher.encrypt(json.dumps({"action": action, "detail": detail}, sort_keys=True), _AUDIT)
    return AuditEvent(actor=actor, action=HEALTH, contact_id=contact_id,
                      detail={SEALED: base64.b64encode(blob).decode("ascii")})


def open_event(cipher: Cipher, action: str, detail: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """(action, detail) as the event was recorded: sealed health events opened, others as they are."""
    detail = detail or {}
    if action != HEALTH or SEALED not in detail:
        return action, detail
    try:
        opened = json.loads(cipher.decrypt(base64.b64decode(detail[SEALED]), _AUDIT))
    except (DecryptionError, ValueError):
        return UNREADABLE, {}  # sealed under a key since removed
    return str(opened["action"]), dict(opened.get("detail") or {})


def aggregate(action: str, detail: dict[str, Any]) -> dict[str, Any]:
    """What an event past its retention keeps: no score, no rule, nothing about the person."""
    return {key: detail[key] for key in AGGREGATE_KEYS if key in detail}


def day_of(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def needs_rotation(cipher: Cipher, detail: dict[str, Any] | None) -> bool:
    """A sealed event's detail under a key that is not the current one (``keys rotate``)."""
    blob = (detail or {}).get(SEALED)
    return isinstance(blob, str) and cipher.needs_rotation(base64.b64decode(blob))
