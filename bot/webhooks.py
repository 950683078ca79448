"""Twilio's webhooks: verify, parse, store, enqueue. Nothing slower happens here.

The signature is checked against ``PUBLIC_BASE_URL`` + the request path, the
URL Twilio actually signed, so it holds behind a reverse proxy or a tunnel.
"""

from __future__ import annotations

import logging
from datetime import UTC
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

from bot.channels.base import parse_inbound
from bot.ingest import ingest
from core.exceptions import BadRequest
from core.tables import Contact, OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
FORM_TYPE = "application/x-www-form-urlencoded"
UNSUBSCRIBED = 21610


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
        log.error("webhook.no_auth_token: TWILIO_AUTH_TOKEN is empty; refusing every webhook until it is set",
                  extra={"path": request.path})
        abort(_error(503, "webhook not configured (TWILIO_AUTH_TOKEN is empty)"))
    signature = request.headers.get("X-Twilio-Signature", "")
    url = config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    if not signature or not RequestValidator(config["TWILIO_AUTH_TOKEN"]).validate(url, form, signature):
        log.warning("webhook.bad_signature", extra={"path": request.path})
        abort(_error(403, "invalid signature"))
    return form


@bp.post("/messages")
def messages() -> Response:
    form = read_signed_form()
    try:
        inbound = parse_inbound(form)
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
    """Record a delivery status; never move a message backwards (delivered stays delivered)."""
    form = read_signed_form()
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    new_status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not new_status:
        return _error(400, "MessageSid and MessageStatus are required")
    mapped = {"queued": OutboxStatus.SENT, "accepted": OutboxStatus.SENT, "sending": OutboxStatus.SENT,
              "sent": OutboxStatus.SENT, "delivered": OutboxStatus.DELIVERED, "read": OutboxStatus.READ,
              "undelivered": OutboxStatus.UNDELIVERED, "failed": OutboxStatus.FAILED}.get(new_status)
    if mapped is None:
        return _error(400, "unknown MessageStatus")
    raw_code = form.get("ErrorCode") or ""
    code = int(raw_code) if raw_code.isdecimal() else None
    services = _services()
    try:
        with services.db.session() as session:
            row = session.scalars(select(OutboxMessage).where(OutboxMessage.provider_sid == sid)).first()
            if row is None:
                log.info("status.unknown_sid")
                return Response(EMPTY_TWIML, mimetype="text/xml")
            if OutboxStatus.RANK[mapped] > OutboxStatus.RANK.get(row.status, 0):
                row.status = mapped
                row.status_at = utcnow()
                if code is not None:
                    row.error_code = code
            if code == UNSUBSCRIBED and row.contact_id is not None:
                session.execute(
                    update(Contact).where(Contact.id == row.contact_id)
                    .values(opted_out=True, opted_out_at=utcnow().astimezone(UTC))
                )
            log.info("status.recorded", extra={"outbox_id": row.id, "status": mapped, "code": code})
    except OperationalError:
        log.error("status.db_unavailable", exc_info=True)
        return _error(503, "storage unavailable; retry")
    return Response(EMPTY_TWIML, mimetype="text/xml")
