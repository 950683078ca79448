"""Twilio SMS and WhatsApp (free-form and approved templates) through the official client.

``TWILIO_API_BASE`` replaces the API host, so the same code talks to Twilio, to
a proxy, or to a local stand-in. Errors become typed SendErrors that say
whether a retry is safe: a refused connection never reached Twilio and is
retried; a read timeout may have been accepted, so the send job reconciles
against Twilio's message list before it tries again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.channels.base import WHATSAPP, SendReceipt, address_for
from core.exceptions import (
    PermanentSendError,
    RecipientOptedOut,
    RetryableSendError,
    SendOutcomeUnknown,
)

# Twilio's own client logs query strings (which carry phone numbers) at INFO.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

UNSUBSCRIBED = 21610
# Codes Twilio documents as worth retrying even though they come as 4xx.
RETRYABLE_CODES = {20429, 30001, 30008}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def classify(exc: TwilioRestException) -> Exception:
    """Map a Twilio API error to the send job's error types."""
    status = exc.status or 0
    code = exc.code
    message = f"twilio {status} {code or ''}".strip()
    if code == UNSUBSCRIBED:
        return RecipientOptedOut(message, code=code, status=status)
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return RetryableSendError(message, code=code, status=status)
    return PermanentSendError(message, code=code, status=status)


class TwilioMessaging:
    """SMS and WhatsApp sending through one Twilio account."""

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
        self._client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_s))
        self._client.api.base_url = api_base.rstrip("/")
        self._sms_from = sms_from
        self._whatsapp_from = whatsapp_from
        self._service_sid = messaging_service_sid
        self._status_callback = status_callback

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

    def find_sent(self, channel: str, to_number: str, body_sha256: str, since: datetime) -> str | None:
        try:
            messages = self._client.messages.list(
                to=address_for(channel, to_number), date_sent_after=since, limit=50
            )
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise RetryableSendError("twilio unreachable") from exc
        for message in messages:
            if message.body is not None and _sha256(message.body) == body_sha256:
                return message.sid
        return None
