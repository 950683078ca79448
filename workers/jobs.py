"""RQ job functions. They take ids, never objects, and stay thin."""

from __future__ import annotations

from workers import runtime
from workers.erasure import erase
from workers.inbound import process
from workers.retention import purge_expired
from workers.scheduling import apply_requests_for_message
from workers.sending import send_row


def handle_inbound(message_id: int) -> str:
    services = runtime.services()
    result = process(services, message_id, runtime.engine(), runtime.safety_gate())
    if result == "processed":
        # Joining a course, PAUSE, RESUME, TIME: applied now; the scheduler's tick
        # applies them later if this worker dies first (they are stored with the turn).
        apply_requests_for_message(services, message_id)
    return result


def erase_contact(contact_id: int) -> str:
    return erase(runtime.services(), contact_id)


def send_outbound(outbox_id: int) -> str:
    return send_row(runtime.services(), outbox_id)


def deliver_case_webhook(alert_id: int) -> str:
    from core.oncall.webhook import deliver

    return deliver(runtime.services(), alert_id)


def purge_expired_messages() -> str:
    report = purge_expired(runtime.services())
    return f"deleted {report.inbound_deleted} inbound and {report.outbox_deleted} outbound messages"
