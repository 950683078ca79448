"""Twilio's webhooks: verify, parse, store, enqueue. Nothing slower happens here.

The signature is checked against ``PUBLIC_BASE_URL`` + the request path, the
URL Twilio actually signed, so it holds behind a reverse proxy or a tunnel.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, current_app, request
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import OperationalError

from bot.channels.base import StatusUpdate
from bot.ingest import ingest
from bot.services import Services
from core.exceptions import BadRequest
from core.outbox import ErrorKind
from core.tables import Contact, OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORM_TYPE = "application/x-www-form-urlencoded"


def _services():
    return current_app.extensions["tumaini.services"]


def _error(status: int, reason: str) -> Response:
    return Response(reason + "\n", status=status, mimetype="text/plain")


def read_signed_form() -> dict[str, str]:
    """Decode the form strictly and verify Twilio's signature, or abort with a 4xx."""
    if request.mimetype != FORM_TYPE:
        abort(_error(415, f"expected {FORM_TYPE}"))
    raw = request.get_data(cache=True)  # MAX_CONTENT_LENGTH turns an oversized body into 413
    if not raw:
        abort(_error(400, "empty request"))
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        abort(_error(400, "request body is not valid UTF-8"))
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    config = current_app.config
    if not config["TWILIO_AUTH_TOKEN"]:
        # An empty key would make every forged signature "valid": refuse until it is set.
        log.error(
            "webhook.no_auth_token: TWILIO_AUTH_TOKEN is empty; refusing every webhook until it is set",
            extra={"path": request.path},
        )
        abort(_error(503, "webhook not configured (TWILIO_AUTH_TOKEN is empty)"))
    signature = request.headers.get("X-Twilio-Signature", "")
    url = config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    if not _services().channel.verify(url, form, signature):
        log.warning("webhook.bad_signature", extra={"path": request.path})
        abort(_error(403, "invalid signature"))
    return form


@bp.post("/messages")
def messages() -> Response:
    form = read_signed_form()
    try:
        inbound = _services().channel.parse_inbound(form)
    except BadRequest as exc:
        return _error(400, str(exc))
    try:
        ingest(_services(), inbound)
    except OperationalError:
        log.error("inbound.db_unavailable", exc_info=True)
        return _error(503, "storage unavailable; retry")
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/status")
def status() -> Response:
    """Record a delivery status; never move a message backwards (delivered stays delivered).

    A send the provider refused for now (a WhatsApp rate limit, a full queue) goes back
    in line with the send backoff, as a new attempt; a 21610 opts the person out.
    """
    form = read_signed_form()
    try:
        update = _services().channel.map_status(form)
    except BadRequest as exc:
        return _error(400, str(exc))
    if update.status is None:
        return Response(EMPTY_TWIML, mimetype="text/xml")
    services = _services()
    try:
        retry = _record_status(services, update)
    except OperationalError:
        log.error("status.db_unavailable", exc_info=True)
        return _error(503, "storage unavailable; retry")
    if retry is not None:
        row_id, attempt, delay, scheduled = retry
        try:
            services.jobs.enqueue_send(row_id, attempt, delay_s=delay, scheduled=scheduled)
        except RedisError:
            # The row is pending again, so the sweeper queues it when Redis is back.
            log.warning("status.enqueue_failed", extra={"outbox_id": row_id})
    return Response(EMPTY_TWIML, mimetype="text/xml")


def _record_status(services: Services, update: StatusUpdate) -> tuple[int, int, float, bool] | None:
    """Store the status; return (row id, attempt, delay, scheduled) when the send should be tried again."""
    config = services.config
    if update.status is None:
        return None
    with services.db.session() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.provider_sid == update.provider_sid)).first()
        if row is None:
            log.info("status.unknown_sid")
            return None
        if update.opt_out and row.contact_id is not None:
            session.execute(
                sql_update(Contact)
                .where(Contact.id == row.contact_id)
                .values(opted_out=True, opted_out_at=utcnow().astimezone(UTC))
            )
        log.info("status.recorded", extra={"outbox_id": row.id, "status": update.status, "code": update.error_code})
        if OutboxStatus.RANK.get(update.status, 0) <= OutboxStatus.RANK.get(row.status, 0):
            return None
        if update.retry and row.status == OutboxStatus.SENT and row.attempts < config.SEND_MAX_ATTEMPTS:
            backoff = config.send_backoff
            delay = float(backoff[min(max(row.attempts - 1, 0), len(backoff) - 1)])
            row.status, row.provider_sid = OutboxStatus.PENDING, None
            row.error_code, row.error = update.error_code, f"twilio {update.error_code}: sending again later"
            row.error_kind = ErrorKind.RETRYABLE
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            log.warning("status.retry_later", extra={"outbox_id": row.id, "code": update.error_code, "delay_s": delay})
            return row.id, row.attempts, delay, row.enrollment_id is not None
        row.status = update.status
        row.status_at = utcnow()
        if update.error_code is not None:
            row.error_code = update.error_code
        if update.status in {OutboxStatus.FAILED, OutboxStatus.UNDELIVERED}:
            row.error_kind = ErrorKind.OPTED_OUT if update.opt_out else ErrorKind.UNDELIVERED
    return None
