"""Delivering outbox rows exactly once, in order, person by person.

A row moves pending -> sending -> sent. The move to "sending" is a conditional
update, so two jobs for one row cannot both send it. A row left in "sending" by
a killed worker is reconciled against the provider's message list before any
resend. Each person's replies go out one after another, in the order written.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.exceptions import (
    PermanentSendError,
    RecipientOptedOut,
    RetryableSendError,
    SendOutcomeUnknown,
)
from bot.models import Contact, OutboxMessage, OutboxStatus, utcnow
from bot.queue import send_job_id
from bot.services import Services

log = logging.getLogger(__name__)

OPTOUT_CONFIRMATION = "optout_confirmation"


def body_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def next_pending(session: Session, contact_id: int) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.contact_id == contact_id, OutboxMessage.status.in_(OutboxStatus.OPEN))
        .order_by(OutboxMessage.id)
        .limit(1)
    ).first()


def queue_next_for(services: Services, contact_id: int, stale_after_s: float | None = None) -> int | None:
    """Queue the person's oldest open row unless it already has a live job."""
    with services.db.session() as session:
        row = next_pending(session, contact_id)
        if row is None:
            return None
        row_id, attempt, not_before = row.id, row.attempts, _aware(row.next_attempt_at)
    stale = stale_after_s if stale_after_s is not None else services.config.PROCESSING_LEASE_S
    job_id = send_job_id(row_id, attempt)
    if services.jobs.job_is_live(job_id, stale):
        return None
    services.jobs.discard(job_id)
    delay = max(0.0, (not_before - utcnow()).total_seconds()) if not_before else 0.0
    services.jobs.enqueue_send(row_id, attempt, delay_s=delay)
    return row_id


def _finish(services: Services, row_id: int, **values: object) -> None:
    with services.db.session() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


def send_row(services: Services, outbox_id: int) -> str:
    """Send one outbox row; return what happened (for logs and tests)."""
    with services.db.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        if row is None or row.status not in OutboxStatus.OPEN:
            return "already-final"
        contact = session.get(Contact, row.contact_id) if row.contact_id else None
        if contact is None or (contact.opted_out and row.kind != OPTOUT_CONFIRMATION):
            row.status = OutboxStatus.SUPPRESSED
            row.status_at = utcnow()
            contact_id = row.contact_id
            outcome = "suppressed"
        else:
            contact_id = contact.id
            outcome = ""
        if not outcome:
            first = next_pending(session, contact.id)
            if first is not None and first.id != row.id:
                outcome = "waiting-for-earlier"
        if not outcome:
            number = services.cipher.decrypt(contact.phone_enc, b"phone")
            body = services.cipher.decrypt(row.body_enc, b"body") if row.body_enc else ""
            channel, digest, attempts = row.channel, row.body_sha256, row.attempts
            interrupted, since = row.status == OutboxStatus.SENDING, _aware(row.sending_at)
    if outcome == "suppressed":
        log.info("send.suppressed", extra={"outbox_id": outbox_id})
        if contact_id is not None:
            queue_next_for(services, contact_id)
        return outcome
    if outcome == "waiting-for-earlier":
        queue_next_for(services, contact_id)
        return outcome

    if interrupted:
        # A previous attempt may have reached the provider: look before resending.
        lookback = (since or utcnow()) - timedelta(minutes=10)
        try:
            sid = services.channel.find_sent(channel, number, digest, lookback)
        except RetryableSendError:
            return _retry_later(services, outbox_id, attempts, contact_id, "reconcile-unreachable")
        if sid:
            _finish(services, outbox_id, status=OutboxStatus.SENT, provider_sid=sid, sent_at=utcnow())
            log.info("send.reconciled", extra={"outbox_id": outbox_id})
            queue_next_for(services, contact_id)
            return "reconciled"

    with services.db.session() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                or_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    and_(OutboxMessage.status == OutboxStatus.SENDING, interrupted),
                ),
            )
            .values(status=OutboxStatus.SENDING, sending_at=utcnow(), attempts=OutboxMessage.attempts + 1)
        ).rowcount
    if claimed != 1:
        return "claimed-elsewhere"
    attempts += 1
    try:
        receipt = services.channel.send(channel, number, body)
    except RecipientOptedOut as exc:
        _finish(services, outbox_id, status=OutboxStatus.FAILED, error_code=exc.code, error="recipient opted out",
                status_at=utcnow())
        with services.db.session() as session:
            session.execute(update(Contact).where(Contact.id == contact_id)
                            .values(opted_out=True, opted_out_at=utcnow()))
        log.warning("send.opted_out", extra={"outbox_id": outbox_id, "code": exc.code})
        queue_next_for(services, contact_id)
        return "opted-out"
    except RetryableSendError as exc:
        _finish(services, outbox_id, status=OutboxStatus.PENDING, error_code=exc.code, error=str(exc))
        return _retry_later(services, outbox_id, attempts, contact_id, str(exc))
    except SendOutcomeUnknown as exc:
        # Leave it in "sending": the next attempt reconciles before it resends.
        log.warning("send.outcome_unknown", extra={"outbox_id": outbox_id})
        return _retry_later(services, outbox_id, attempts, contact_id, str(exc), keep_status=True)
    except PermanentSendError as exc:
        _finish(services, outbox_id, status=OutboxStatus.FAILED, error_code=exc.code, error=str(exc)[:200],
                status_at=utcnow())
        log.error("send.failed", extra={"outbox_id": outbox_id, "code": exc.code, "status": exc.status})
        queue_next_for(services, contact_id)
        raise
    _finish(services, outbox_id, status=OutboxStatus.SENT, provider_sid=receipt.provider_sid, sent_at=utcnow(),
            error=None)
    log.info("send.sent", extra={"outbox_id": outbox_id, "attempts": attempts})
    queue_next_for(services, contact_id)
    return "sent"


def _retry_later(
    services: Services, outbox_id: int, attempts: int, contact_id: int, reason: str, keep_status: bool = False
) -> str:
    backoff = services.config.send_backoff
    if attempts >= services.config.SEND_MAX_ATTEMPTS:
        _finish(services, outbox_id, status=OutboxStatus.FAILED, error=f"gave up: {reason}"[:200],
                status_at=utcnow())
        log.error("send.gave_up", extra={"outbox_id": outbox_id, "attempts": attempts})
        queue_next_for(services, contact_id)
        return "gave-up"
    delay = backoff[min(attempts - 1, len(backoff) - 1)] if attempts > 0 else backoff[0]
    values: dict[str, object] = {"next_attempt_at": utcnow() + timedelta(seconds=delay)}
    if not keep_status:
        values["status"] = OutboxStatus.PENDING
    _finish(services, outbox_id, **values)
    services.jobs.enqueue_send(outbox_id, attempts, delay_s=delay)
    log.info("send.retry_scheduled", extra={"outbox_id": outbox_id, "attempts": attempts, "delay_s": delay})
    return "retry-scheduled"
