"""RQ job functions. They take ids, never objects, and stay thin: each asks for the
worker's context (workers.runtime) and hands it to the room that does the work."""

from __future__ import annotations

from workers import runtime
from workers.erasure import erase
from workers.inbound import process
from workers.retention import purge_expired
from workers.scheduling import apply_requests_for_message
from workers.sending import send_row


def handle_inbound(message_id: int) -> str:
    ctx = runtime.context()
    result = process(ctx, message_id)
    if result == "processed":
        # Joining a course, PAUSE, RESUME, TIME: applied now; the scheduler's tick
        # applies them later if this worker dies first (they are stored with the turn).
        apply_requests_for_message(ctx.services, message_id)
    return result


def erase_contact(contact_id: int) -> str:
    return erase(runtime.context().services, contact_id)


def send_outbound(outbox_id: int) -> str:
    return send_row(runtime.context().services, outbox_id)


def deliver_case_webhook(alert_id: int) -> str:
    from core.oncall.webhook import deliver

    return deliver(runtime.context().services, alert_id)


def purge_expired_messages() -> str:
    report = purge_expired(runtime.context().services)
    return (f"deleted {report.inbound_deleted} inbound and {report.outbox_deleted} outbound messages; "
            f"health data: {report.states_dropped} states dropped, {report.health_events_aggregated} events "
            f"aggregated, {report.cases_unlinked} cases unlinked")
