"""RQ job functions. They take ids, never objects, and stay thin."""

from __future__ import annotations

from workers import runtime
from workers.inbound import process
from workers.erasure import erase
from workers.retention import purge_expired
from workers.sending import send_row


def handle_inbound(message_id: int) -> str:
    return process(runtime.services(), message_id, runtime.engine(), runtime.safety_gate())


def erase_contact(contact_id: int) -> str:
    return erase(runtime.services(), contact_id)


def send_outbound(outbox_id: int) -> str:
    return send_row(runtime.services(), outbox_id)


def purge_expired_messages() -> str:
    report = purge_expired(runtime.services())
    return f"deleted {report.inbound_deleted} inbound and {report.outbox_deleted} outbound messages"
