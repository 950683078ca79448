"""Delivering outbox rows exactly once, in order, person by person.

A row moves pending -> sending -> sent. The move to "sending" is a conditional
update, so two jobs for one row cannot both send it. A row left in "sending" by
a killed worker is reconciled against the provider's message list before any
resend. Each person's replies go out one after another, in the order written;
scheduled content (courses, check-ins) waits behind them and never holds them up.

Scheduled content is checked again at the moment it would go: nothing is sent
to a person who paused or opted out, after its window closed, or in their quiet
hours (the row is marked "skipped" with the reason). WhatsApp outside the 24 h
window goes as an approved template, or by SMS when the person allowed it, or
waits ("waiting") until the person writes. Every send is paced by its sender's
shared rate (workers.ratelimit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update

from bot.channels.base import SMS, WHATSAPP, is_phone_number
from bot.services import Services
from core.exceptions import (
    OutsideWhatsAppWindow,
    PermanentSendError,
    RecipientOptedOut,
    RetryableSendError,
    SendOutcomeUnknown,
)
from core.outbox import (
    CRISIS_KIND,
    OPTOUT_CONFIRMATION,
    ErrorKind,
    as_utc,
    new_rows,
    next_pending,
    outside_window,
    queue_next_for,
)
from core.tables import AuditEvent, Contact, OutboxMessage, OutboxStatus, utcnow
from core.timezones import QuietHours, UnknownZone, zone
from workers.ratelimit import RateLimited, pace

log = logging.getLogger(__name__)

def _finish(services: Services, row_id: int, **values: object) -> None:
    with services.db.session() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


def _crisis_fallback(services: Services, row_id: int) -> None:
    """A crisis reply that could not be sent: the built-in crisis text (bot.conversation.builtin)
    goes in its place, once per message, so the person still gets the emergency number."""
    from bot.conversation import builtin

    with services.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.kind != CRISIS_KIND or row.contact_id is None or row.content_ref == builtin.REF:
            return
        already = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.contact_id == row.contact_id, OutboxMessage.inbound_id == row.inbound_id,
            OutboxMessage.content_ref == builtin.REF).limit(1))
        contact = session.get(Contact, row.contact_id)
        if already is not None or contact is None or contact.opted_out:
            return
        reply = builtin.reply(services.library, contact.region or services.config.DEFAULT_REGION,
                              contact.locale or services.library.default_locale)
        session.add_all(new_rows(services.cipher, reply.text, row.channel, services.config.SMS_SEGMENT_BUDGET,
                                 contact_id=row.contact_id, inbound_id=row.inbound_id, content_ref=builtin.REF,
                                 locale=reply.locale, kind=CRISIS_KIND))
        session.add(AuditEvent(actor="worker", action="crisis.builtin_reply", contact_id=row.contact_id,
                               detail={"inbound_id": row.inbound_id, "failed_outbox_id": row_id}))
    log.error("send.crisis_fallback", extra={"outbox_id": row_id})


@dataclass(frozen=True)
class _Pending:
    """What one send needs, read in one short transaction."""

    row_id: int
    contact_id: int | None  # None: a message to staff
    kind: str
    channel: str
    number: str
    body: str
    digest: str
    attempts: int
    interrupted: bool
    since: datetime | None
    scheduled: bool
    not_after: datetime | None
    locale: str | None
    paused: str | None  # why the person's scheduled content is on hold, if it is
    time_zone: str | None
    last_inbound_at: datetime | None
    sms_fallback: bool


def _hold_reason(services: Services, item: _Pending, now: datetime) -> str | None:
    """Why scheduled content must not go now (it is then skipped), or None."""
    if not item.scheduled:
        return None
    if item.paused:
        return item.paused
    if item.not_after is not None and now > item.not_after:
        return "missed its window"
    try:
        tz = zone(item.time_zone or services.config.DEFAULT_TIMEZONE)
    except UnknownZone:
        tz = zone(services.config.DEFAULT_TIMEZONE)
    if QuietHours.parse(services.config.QUIET_HOURS).is_quiet(now, tz):
        return "quiet hours"
    return None


def _route(services: Services, item: _Pending, now: datetime) -> tuple[str, str | None] | None:
    """(channel, template ContentSid or None) to send on, or None to wait for the person.

    Replies answer a message, so they are inside the window unless a backlog kept them
    for a day; scheduled content is checked against the person's last message.
    """
    if not outside_window(item.channel, item.last_inbound_at, item.scheduled, now):
        return item.channel, None
    templates = services.config.whatsapp_templates
    template = templates.get(item.locale or "") or templates.get(services.library.default_locale)
    if template:
        return WHATSAPP, template
    if item.sms_fallback and is_phone_number(item.number):  # a WhatsApp user id cannot receive SMS
        return SMS, None
    return None


def _load(services: Services, outbox_id: int) -> tuple[str, _Pending | None, int | None]:
    with services.db.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        if row is None or row.status not in OutboxStatus.OPEN:
            return "already-final", None, None
        if row.contact_id is None and row.to_enc is not None:
            return "", _staff_item(services, row), None
        contact = session.get(Contact, row.contact_id) if row.contact_id else None
        if contact is None or (contact.opted_out and row.kind != OPTOUT_CONFIRMATION):
            row.status = OutboxStatus.SUPPRESSED
            row.status_at = utcnow()
            return "suppressed", None, row.contact_id
        first = next_pending(session, contact.id)
        if first is not None and first.id != row.id:
            return "waiting-for-earlier", None, contact.id
        paused = "paused: case open" if contact.paused else ("paused by the person"
                                                             if contact.reminders_paused else None)
        item = _Pending(
            row_id=row.id, contact_id=contact.id, kind=row.kind, channel=row.channel,
            number=services.cipher.decrypt(contact.phone_enc, b"phone"),
            body=services.cipher.decrypt(row.body_enc, b"body") if row.body_enc else "",
            digest=row.body_sha256, attempts=row.attempts, interrupted=row.status == OutboxStatus.SENDING,
            since=as_utc(row.sending_at), scheduled=row.enrollment_id is not None,
            not_after=as_utc(row.not_after), locale=row.locale, paused=paused, time_zone=contact.time_zone,
            last_inbound_at=as_utc(contact.last_inbound_at), sms_fallback=contact.sms_fallback,
        )
        return "", item, contact.id


def _staff_item(services: Services, row: OutboxMessage) -> _Pending:
    """A row to a member of staff: never held for quiet hours, a pause or a person's order."""
    return _Pending(
        row_id=row.id, contact_id=None, kind=row.kind, channel=row.channel,
        number=services.cipher.decrypt(row.to_enc, b"phone"),
        body=services.cipher.decrypt(row.body_enc, b"body") if row.body_enc else "",
        digest=row.body_sha256, attempts=row.attempts, interrupted=row.status == OutboxStatus.SENDING,
        since=as_utc(row.sending_at), scheduled=False, not_after=None, locale=row.locale, paused=None,
        time_zone=None, last_inbound_at=None, sms_fallback=False,
    )


def _set_aside(services: Services, item: _Pending, status: str, reason: str) -> None:
    """Mark an open row skipped or waiting, unless another worker finished it meanwhile."""
    values: dict[str, object] = {"status": status, "error": reason}
    if status == OutboxStatus.SKIPPED:
        values["status_at"] = utcnow()
    with services.db.session() as session:
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.id == item.row_id, OutboxMessage.status.in_(OutboxStatus.OPEN))
                        .values(**values))
    log.info("send.set_aside", extra={"outbox_id": item.row_id, "status": status, "reason": reason})


def send_row(services: Services, outbox_id: int) -> str:
    """Send one outbox row; return what happened (for logs and tests)."""
    outcome, item, contact_id = _load(services, outbox_id)
    if outcome == "suppressed":
        log.info("send.suppressed", extra={"outbox_id": outbox_id})
    if item is None:
        if outcome != "already-final" and contact_id is not None:
            queue_next_for(services, contact_id)
        return outcome

    if item.interrupted:
        # A previous attempt may have reached the provider: look before resending, but only
        # once that request can no longer be in flight, or the look could miss it.
        settle = (item.since or utcnow()) + timedelta(seconds=2 * services.config.TWILIO_TIMEOUT_S)
        if utcnow() < settle:
            return _reconcile_later(services, item, (settle - utcnow()).total_seconds())
        lookback = (item.since or utcnow()) - timedelta(minutes=10)
        try:
            sid = services.channel.find_sent(item.channel, item.number, item.digest, lookback)
        except RetryableSendError:
            return _reconcile_later(services, item, float(services.config.send_backoff[0]))
        if sid:
            _finish(services, outbox_id, status=OutboxStatus.SENT, provider_sid=sid, sent_at=utcnow())
            log.info("send.reconciled", extra={"outbox_id": outbox_id})
            queue_next_for(services, item.contact_id)
            return "reconciled"

    now = utcnow()
    reason = _hold_reason(services, item, now)
    if reason:
        _set_aside(services, item, OutboxStatus.SKIPPED, reason)
        queue_next_for(services, item.contact_id)
        return "skipped"
    route = _route(services, item, now)
    if route is None:
        _set_aside(services, item, OutboxStatus.WAITING, "outside the WhatsApp 24 h window")
        queue_next_for(services, item.contact_id)
        return "waiting"
    channel, template = route
    try:
        pace(services, channel, item.scheduled, max_wait_s=services.config.JOB_TIMEOUT_S / 2)
    except RateLimited as exc:
        # The sweeper queues the row again shortly; nothing was claimed.
        log.info("send.rate_limited", extra={"outbox_id": outbox_id, "wait_s": round(exc.wait_s, 1)})
        return "rate-limited"

    # Claimed only if still open and the person has not opted out since we looked.
    opted_out = exists().where(Contact.id == item.contact_id, Contact.opted_out.is_(True))
    with services.db.session() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                or_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    and_(OutboxMessage.status == OutboxStatus.SENDING, item.interrupted),
                ),
                or_(OutboxMessage.kind == OPTOUT_CONFIRMATION, ~opted_out),
            )
            .values(status=OutboxStatus.SENDING, sending_at=utcnow(), attempts=OutboxMessage.attempts + 1,
                    channel=channel, template_sid=template)
        ).rowcount
    if claimed != 1:
        with services.db.session() as session:
            suppressed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutboxStatus.PENDING, opted_out)
                .values(status=OutboxStatus.SUPPRESSED, status_at=utcnow())
            ).rowcount
        if suppressed:
            log.info("send.suppressed", extra={"outbox_id": outbox_id})
            queue_next_for(services, item.contact_id)
            return "suppressed"
        return "claimed-elsewhere"
    attempts = item.attempts + 1
    try:
        if template:
            receipt = services.channel.send_template(item.number, template, {"1": _one_line(item.body)})
        else:
            receipt = services.channel.send(channel, item.number, item.body)
    except RecipientOptedOut as exc:
        _finish(services, outbox_id, status=OutboxStatus.FAILED, error_code=exc.code, error="recipient opted out",
                error_kind=ErrorKind.OPTED_OUT, status_at=utcnow())
        if item.contact_id is not None:
            with services.db.session() as session:
                session.execute(update(Contact).where(Contact.id == item.contact_id)
                                .values(opted_out=True, opted_out_at=utcnow()))
        log.warning("send.opted_out", extra={"outbox_id": outbox_id, "code": exc.code})
        queue_next_for(services, item.contact_id)
        return "opted-out"
    except OutsideWhatsAppWindow as exc:
        _finish(services, outbox_id, status=OutboxStatus.WAITING, error_code=exc.code,
                error="outside the WhatsApp 24 h window (refused by WhatsApp)", error_kind=ErrorKind.OUTSIDE_WINDOW,
                status_at=utcnow())
        log.info("send.outside_window", extra={"outbox_id": outbox_id})
        queue_next_for(services, item.contact_id)
        return "waiting"
    except RetryableSendError as exc:
        _finish(services, outbox_id, status=OutboxStatus.PENDING, error_code=exc.code, error=str(exc),
                error_kind=ErrorKind.RETRYABLE)
        return _retry_later(services, item, attempts, str(exc))
    except SendOutcomeUnknown as exc:
        # Leave it in "sending": the next attempt reconciles before it resends.
        log.warning("send.outcome_unknown", extra={"outbox_id": outbox_id})
        _finish(services, outbox_id, error=str(exc)[:200], error_kind=ErrorKind.OUTCOME_UNKNOWN)
        return _retry_later(services, item, attempts, str(exc), keep_status=True)
    except PermanentSendError as exc:
        _finish(services, outbox_id, status=OutboxStatus.FAILED, error_code=exc.code, error=str(exc)[:200],
                error_kind=ErrorKind.PERMANENT, status_at=utcnow())
        log.error("send.failed", extra={"outbox_id": outbox_id, "code": exc.code, "status": exc.status})
        _crisis_fallback(services, outbox_id)
        queue_next_for(services, item.contact_id)
        raise
    _finish(services, outbox_id, status=OutboxStatus.SENT, provider_sid=receipt.provider_sid, sent_at=utcnow(),
            error=None, error_code=None, error_kind=None)
    log.info("send.sent", extra={"outbox_id": outbox_id, "attempts": attempts, "template": bool(template)})
    queue_next_for(services, item.contact_id)
    return "sent"


def _reconcile_later(services: Services, item: _Pending, delay_s: float) -> str:
    """Check an interrupted send again later, as a new job (never a rewrite of this one)."""
    attempt = item.attempts + 1
    if attempt > services.config.SEND_MAX_ATTEMPTS:
        _finish(services, item.row_id, status=OutboxStatus.FAILED, error="gave up: outcome of an interrupted send unknown",
                error_kind=ErrorKind.OUTCOME_UNKNOWN, status_at=utcnow())
        log.error("send.gave_up", extra={"outbox_id": item.row_id, "attempts": item.attempts})
        _crisis_fallback(services, item.row_id)
        queue_next_for(services, item.contact_id)
        return "gave-up"
    _finish(services, item.row_id, attempts=attempt, next_attempt_at=utcnow() + timedelta(seconds=delay_s))
    services.jobs.enqueue_send(item.row_id, attempt, delay_s=max(delay_s, 0.1), scheduled=item.scheduled)
    log.info("send.reconcile_later", extra={"outbox_id": item.row_id, "delay_s": round(delay_s, 1)})
    return "reconcile-later"


def _retry_later(services: Services, item: _Pending, attempts: int, reason: str, keep_status: bool = False) -> str:
    outbox_id = item.row_id
    backoff = services.config.send_backoff
    if attempts >= services.config.SEND_MAX_ATTEMPTS:
        _finish(services, outbox_id, status=OutboxStatus.FAILED, error=f"gave up: {reason}"[:200],
                status_at=utcnow())
        log.error("send.gave_up", extra={"outbox_id": outbox_id, "attempts": attempts})
        _crisis_fallback(services, outbox_id)
        queue_next_for(services, item.contact_id)
        return "gave-up"
    delay = backoff[min(attempts - 1, len(backoff) - 1)] if attempts > 0 else backoff[0]
    values: dict[str, object] = {"next_attempt_at": utcnow() + timedelta(seconds=delay)}
    if not keep_status:
        values["status"] = OutboxStatus.PENDING
    _finish(services, outbox_id, **values)
    services.jobs.enqueue_send(outbox_id, attempts, delay_s=delay, scheduled=item.scheduled)
    log.info("send.retry_scheduled", extra={"outbox_id": outbox_id, "attempts": attempts, "delay_s": delay})
    return "retry-scheduled"


# -- WhatsApp templates -----------------------------------------------------------
def _one_line(text: str) -> str:
    """Template variables may not hold newlines or long runs of spaces (WhatsApp's rule)."""
    return " ".join(text.split())[:1024]
