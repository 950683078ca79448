"""The channel interface and Twilio's inbound form, decoded into a typed record.

SMS and WhatsApp arrive on the same webhook; WhatsApp addresses carry a
``whatsapp:`` prefix. Parsing checks every field the pipeline relies on, so a
malformed request is refused with a clear 400 before anything is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.exceptions import BadRequest

SMS = "sms"
WHATSAPP = "whatsapp"
CHANNELS = (SMS, WHATSAPP)
_MAX_BODY_CHARS = 4096 * 4
_SID_CHARS = set("0123456789abcdefABCDEF")


def channel_of_address(address: str) -> str:
    return WHATSAPP if address.startswith("whatsapp:") else SMS


def bare_number(address: str) -> str:
    """The E.164 number without a channel prefix, used as the person's identity."""
    return address.split(":", 1)[1] if address.startswith("whatsapp:") else address


def address_for(channel: str, number: str) -> str:
    return f"whatsapp:{number}" if channel == WHATSAPP else number


@dataclass(frozen=True)
class InboundForm:
    message_sid: str
    channel: str
    from_number: str  # bare E.164 number: the same person on SMS and WhatsApp
    to_address: str
    body: str
    num_media: int


def _valid_sid(sid: str) -> bool:
    return 2 < len(sid) <= 64 and sid[:2].isalpha() and set(sid[2:]) <= _SID_CHARS


def _valid_number(number: str) -> bool:
    digits = number[1:] if number.startswith("+") else number
    return 3 <= len(digits) <= 20 and digits.isdigit()


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
    number = bare_number(sender)
    if not _valid_number(number):
        raise BadRequest("From is not a phone number")
    to_address = (form.get("To") or "").strip()
    if not to_address:
        raise BadRequest("To is missing")
    if channel_of_address(sender) != channel_of_address(to_address):
        raise BadRequest("From and To are on different channels")
    body = form.get("Body") or ""
    if len(body) > _MAX_BODY_CHARS:
        raise BadRequest("Body is too long")
    raw_media = (form.get("NumMedia") or "0").strip()
    if not raw_media.isdecimal():
        raise BadRequest("NumMedia is not a number")
    return InboundForm(
        message_sid=sid,
        channel=channel_of_address(sender),
        from_number=number,
        to_address=to_address,
        body=body,
        num_media=int(raw_media),
    )


@dataclass(frozen=True)
class SendReceipt:
    provider_sid: str
    status: str


class Channel(Protocol):
    """What the send job needs from a provider."""

    def send(self, channel: str, to_number: str, body: str) -> SendReceipt:
        """Hand one message to the provider; raise a SendError subclass on failure."""

    def send_template(self, to_number: str, content_sid: str, variables: dict[str, str]) -> SendReceipt:
        """Send an approved WhatsApp template (outside the 24 h window); errors as for send."""

    def find_sent(self, channel: str, to_number: str, body_sha256: str, since: datetime) -> str | None:
        """The provider's id of a message already accepted with this body, if any."""
