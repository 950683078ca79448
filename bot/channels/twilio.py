"""Twilio SMS and WhatsApp: webhook signatures, inbound forms, delivery statuses and sending.

Everything that knows Twilio's field names, status words and error codes lives
here, behind the Channel interface (bot.channels.base); the webhook and the
send job speak only in InboundForm, StatusUpdate and typed SendErrors.

``TWILIO_API_BASE`` replaces the API host, so the same code talks to Twilio, to
a proxy, or to a local stand-in. Errors become typed SendErrors that say
whether a retry is safe: a refused connection never reached Twilio and is
retried; a read timeout may have been accepted, so the send job reconciles
against Twilio's message list before it tries again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import (
    WHATSAPP,
    InboundForm,
    SendReceipt,
    StatusUpdate,
    address_for,
    bare_number,
    channel_of_address,
    is_business_user_id,
    is_phone_number,
)
from core.exceptions import (
    BadRequest,
    OutsideWhatsAppWindow,
    PermanentSendError,
    RecipientOptedOut,
    RetryableSendError,
    SendOutcomeUnknown,
)
from core.tables import OutboxStatus

# Twilio's own client logs query strings (which carry phone numbers) at INFO.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

_MAX_BODY_CHARS = 4096 * 4
_SID_CHARS = set("0123456789abcdefABCDEF")


# -- Error codes -------------------------------------------------------------------
@dataclass(frozen=True)
class TwilioError:
    code: int
    kind: str  # what went wrong, in a word the portal can group by
    retryable: bool  # the same message may be accepted later
    description: str  # Twilio's own title for the code


_ERRORS = (
    TwilioError(20429, "rate_limited", True, "Too Many Requests"),
    TwilioError(21211, "invalid_number", False, "Invalid 'To' Phone Number"),
    TwilioError(21408, "region_not_enabled", False, "Permission to send an SMS has not been enabled for the region"),
    TwilioError(21610, "opted_out", False, "Attempt to send to unsubscribed recipient"),
    TwilioError(21614, "not_mobile", False, "'To' number is not a valid mobile number"),
    TwilioError(30001, "queue_overflow", True, "Queue overflow"),
    TwilioError(30002, "account_suspended", False, "Account suspended"),
    TwilioError(30003, "unreachable", False, "Unreachable destination handset"),
    TwilioError(30004, "blocked", False, "Message blocked"),
    TwilioError(30005, "unknown_destination", False, "Unknown destination handset"),
    TwilioError(30006, "landline_or_unreachable_carrier", False, "Landline or unreachable carrier"),
    TwilioError(30007, "carrier_filtered", False, "Message filtered"),
    TwilioError(30008, "unknown_error", True, "Unknown error"),
    TwilioError(30017, "carrier_congestion", True, "Carrier network congestion"),
    TwilioError(30022, "throughput_exceeded", True, "US A2P 10DLC - Rate Limits Exceeded"),
    TwilioError(
        63016, "outside_window", False, "Failed to send freeform message because you are outside the allowed window"
    ),
    TwilioError(63018, "rate_limited", True, "Rate limit exceeded for Channel"),
)
ERRORS = {e.code: e for e in _ERRORS}
UNSUBSCRIBED = 21610
OUTSIDE_WINDOW = 63016
# Codes worth sending again later even though Twilio reports them as a 4xx or a failed delivery.
RETRYABLE_CODES = frozenset(e.code for e in _ERRORS if e.retryable)


def error_kind(code: int | None, status: int | None = None) -> str:
    """A short name for a send failure, for the portal and the logs."""
    if code in ERRORS:
        return ERRORS[code].kind
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "provider_unavailable"
    return "refused"


def classify(exc: TwilioRestException) -> Exception:
    """Map a Twilio API error to the send job's error types."""
    status = exc.status or 0
    code = exc.code
    message = f"twilio {status} {code or ''}".strip()
    if code == UNSUBSCRIBED:
        return RecipientOptedOut(message, code=code, status=status)
    if code == OUTSIDE_WINDOW:
        return OutsideWhatsAppWindow(message, code=code, status=status)
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return RetryableSendError(message, code=code, status=status)
    return PermanentSendError(message, code=code, status=status)


# -- Webhook signatures ------------------------------------------------------------
def verify(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Twilio's X-Twilio-Signature check for a form posted to ``url``."""
    return bool(auth_token) and bool(signature) and RequestValidator(auth_token).validate(url, dict(form), signature)


# -- Inbound messages --------------------------------------------------------------
_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_MIN_BASE64_CHARS = 60
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 and C1 controls, bar \t \n \r


def decode_possible_base64(original: str) -> str:
    """The text of a body Twilio delivered base64-encoded (it does so with some concatenated SMS).

    A body is decoded only when it has at least 60 characters (line breaks aside), a
    multiple of 4, only base64 characters, decodes, and the result reads as text:
    at least half ASCII (the rule courier uses), or valid UTF-8 throughout, so a
    message in Devanagari, Arabic or Ge'ez script is decoded too. A message split
    mid-character loses only the broken character at its end. Anything else is
    returned unchanged.
    """
    stripped = original.replace("\r", "").replace("\n", "").strip()
    if len(stripped) < _MIN_BASE64_CHARS or len(stripped) % 4 or not _BASE64_CHARS.match(stripped):
        return original
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return original
    decoded = raw.decode("utf-8", errors="replace").rstrip("\ufffd")
    if not decoded.strip():
        return original
    if _CONTROL_CHARS.search(decoded):
        return original  # control bytes: binary data, not a message
    ascii_chars = len(decoded.encode("ascii", errors="ignore"))
    if ascii_chars * 2 >= len(decoded) or "\ufffd" not in decoded:
        return decoded
    return original


def _valid_sid(sid: str) -> bool:
    return 2 < len(sid) <= 64 and sid[:2].isalpha() and set(sid[2:]) <= _SID_CHARS


def _sender_address(form: Mapping[str, str], channel: str) -> str:
    """The person's bare address: a phone number, or on WhatsApp a business-scoped user id."""
    sender = bare_number((form.get("From") or "").strip())
    if is_phone_number(sender):
        return sender
    if channel == WHATSAPP:
        if is_business_user_id(sender):
            return sender
        user_id = bare_number((form.get("ExternalUserId") or "").strip())
        if is_business_user_id(user_id):
            return user_id
        raise BadRequest("From is neither a phone number nor a WhatsApp user id")
    raise BadRequest("From is not a phone number")


def _text(form: Mapping[str, str], channel: str) -> str:
    """What the person said: a tapped WhatsApp button's text (or payload), else the body, decoded."""
    if channel == WHATSAPP:
        button = (form.get("ButtonText") or "").strip() or (form.get("ButtonPayload") or "").strip()
        if button:
            return button
    body = form.get("Body") or ""
    return decode_possible_base64(body) if body else body


def parse_inbound(form: Mapping[str, str]) -> InboundForm:
    """Decode Twilio's message webhook; raise BadRequest naming the problem."""
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    if not sid:
        raise BadRequest("MessageSid is missing")
    if not _valid_sid(sid):
        raise BadRequest("MessageSid is malformed")
    sender = (form.get("From") or "").strip()
    if not sender:
        raise BadRequest("From is missing")
    channel = channel_of_address(sender)
    address = _sender_address(form, channel)
    to_address = (form.get("To") or "").strip()
    if not to_address:
        raise BadRequest("To is missing")
    if channel != channel_of_address(to_address):
        raise BadRequest("From and To are on different channels")
    if len(form.get("Body") or "") > _MAX_BODY_CHARS:
        raise BadRequest("Body is too long")
    raw_media = (form.get("NumMedia") or "0").strip()
    if not raw_media.isdecimal():
        raise BadRequest("NumMedia is not a number")
    shared_location = bool((form.get("Latitude") or "").strip() and (form.get("Longitude") or "").strip())
    return InboundForm(
        message_sid=sid,
        channel=channel,
        from_number=address,
        to_address=to_address,
        body=_text(form, channel),
        num_media=int(raw_media) + (1 if shared_location else 0),
    )


# -- Delivery statuses -------------------------------------------------------------
# Every MessageStatus Twilio sends, mapped onto the outbox's statuses. None: a status of an
# inbound message, which says nothing about anything we sent.
STATUSES: dict[str, str | None] = {
    "accepted": OutboxStatus.SENT,
    "scheduled": OutboxStatus.SENT,
    "queued": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "partially_delivered": OutboxStatus.SENT,  # some parts arrived; not claimed as delivered
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.READ,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.FAILED,
    "receiving": None,
    "received": None,
}
_FAILED = (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED)


def map_status(form: Mapping[str, str]) -> StatusUpdate:
    """Decode Twilio's status callback; raise BadRequest naming the problem."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    word = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not word:
        raise BadRequest("MessageSid and MessageStatus are required")
    if word not in STATUSES:
        raise BadRequest(f"unknown MessageStatus '{word[:32]}'")
    status = STATUSES[word]
    raw_code = (form.get("ErrorCode") or "").strip()
    code = int(raw_code) if raw_code.isdecimal() and int(raw_code) > 0 else None
    failed = status in _FAILED
    return StatusUpdate(
        provider_sid=sid,
        status=status,
        error_code=code,
        retry=failed and code in RETRYABLE_CODES,
        opt_out=code == UNSUBSCRIBED,
    )


# -- Sending -----------------------------------------------------------------------
def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# A message Twilio reports in one of these never reached the person: it is no evidence of a send.
_NOT_SENT = {"failed", "undelivered", "canceled"}


class TwilioMessaging:
    """SMS and WhatsApp through one Twilio account, behind the Channel interface."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base: str,
        sms_from: str = "",
        whatsapp_from: str = "",
        messaging_service_sid: str = "",
        status_callback: str | None = None,
        timeout_s: float = 10.0,
    ):
        self._auth_token = auth_token
        self._client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s))
        self._client.api.base_url = api_base.rstrip("/")
        self._sms_from = sms_from
        self._whatsapp_from = whatsapp_from
        self._service_sid = messaging_service_sid
        self._status_callback = status_callback

    def verify(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        return verify(self._auth_token, url, form, signature)

    def parse_inbound(self, form: Mapping[str, str]) -> InboundForm:
        return parse_inbound(form)

    def map_status(self, form: Mapping[str, str]) -> StatusUpdate:
        return map_status(form)

    def _sender(self, channel: str) -> dict[str, str]:
        if channel == WHATSAPP and self._whatsapp_from:
            return {"from_": address_for(WHATSAPP, self._whatsapp_from.removeprefix("whatsapp:"))}
        if channel != WHATSAPP and self._sms_from:
            return {"from_": self._sms_from}
        if self._service_sid:
            return {"messaging_service_sid": self._service_sid}
        raise PermanentSendError(f"no sender configured for {channel}")

    def _create(self, channel: str, to_number: str, **content: str) -> SendReceipt:
        """Hand one message (a body or a template) to Twilio; every failure becomes a typed SendError."""
        if channel != WHATSAPP and not is_phone_number(to_number):
            raise PermanentSendError("no phone number for SMS", code=None, status=None)
        kwargs = self._sender(channel)
        if self._status_callback:
            kwargs["status_callback"] = self._status_callback
        try:
            message = self._client.messages.create(to=address_for(channel, to_number), **content, **kwargs)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except requests.exceptions.ConnectionError as exc:
            # ConnectTimeout and refused connections never reached Twilio.
            if isinstance(exc, requests.exceptions.ConnectTimeout) or "Read timed out" not in str(exc):
                raise RetryableSendError("twilio unreachable") from exc
            raise SendOutcomeUnknown("twilio read timeout") from exc
        except requests.exceptions.Timeout as exc:
            raise SendOutcomeUnknown("twilio timeout") from exc
        return SendReceipt(provider_sid=message.sid or "", status=message.status or "queued")

    def send(self, channel: str, to_number: str, body: str) -> SendReceipt:
        return self._create(channel, to_number, body=body)

    def send_template(self, to_number: str, content_sid: str, variables: dict[str, str]) -> SendReceipt:
        """An approved WhatsApp template (ContentSid), the only thing WhatsApp accepts outside the 24 h window."""
        return self._create(WHATSAPP, to_number, content_sid=content_sid, content_variables=json.dumps(variables))

    def delete_message(self, sid: str) -> bool:
        """Delete Twilio's record of a message (erasure). True once it is gone, including already gone."""
        try:
            self._client.messages(sid).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return True
            raise classify(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise RetryableSendError("twilio unreachable") from exc
        return True

    def find_sent(self, channel: str, to_number: str, body_sha256: str, since: datetime) -> str | None:
        try:
            messages = self._client.messages.list(to=address_for(channel, to_number), date_sent_after=since, limit=50)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise RetryableSendError("twilio unreachable") from exc
        for message in messages:
            if (
                message.body is not None
                and _sha256(message.body) == body_sha256
                and (message.status or "") not in _NOT_SENT
            ):
                return message.sid
        return None
