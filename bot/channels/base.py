"""The channel interface: verify a webhook, parse an inbound message, send, map a delivery status.

SMS and WhatsApp arrive on the same webhook; WhatsApp addresses carry a
``whatsapp:`` prefix. A person is identified by a bare address: an E.164 phone
number (the same person on SMS and WhatsApp), or, for a WhatsApp user who does
not share a number, WhatsApp's business-scoped user id (``US.13491208655302741918``).
Both are keyed (HMAC) and encrypted the same way; only a phone number can
receive SMS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

SMS = "sms"
WHATSAPP = "whatsapp"
CHANNELS = (SMS, WHATSAPP)

# WhatsApp business-scoped user ids: a two-letter country, an optional "ENT." (a parent id), then letters
# and digits. A phone number has no dot, so the two kinds of address can never collide.
_BUSINESS_USER_ID = re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$")


def channel_of_address(address: str) -> str:
    return WHATSAPP if address.startswith("whatsapp:") else SMS


def bare_number(address: str) -> str:
    """The person's address without a channel prefix, used as their identity."""
    return address.split(":", 1)[1] if address.startswith("whatsapp:") else address


def address_for(channel: str, number: str) -> str:
    return f"whatsapp:{number}" if channel == WHATSAPP else number


def is_phone_number(address: str) -> bool:
    """An E.164-style number (what SMS can reach), with or without the leading +."""
    digits = address[1:] if address.startswith("+") else address
    return 3 <= len(digits) <= 20 and digits.isascii() and digits.isdigit()


def is_business_user_id(address: str) -> bool:
    """A WhatsApp business-scoped user id: an address that is not a phone number."""
    return bool(_BUSINESS_USER_ID.match(address))


def country_of_business_user_id(address: str) -> str | None:
    """The ISO country a business-scoped user id starts with ("US.1234" -> "US")."""
    return address[:2] if is_business_user_id(address) else None


@dataclass(frozen=True)
class InboundForm:
    message_sid: str
    channel: str
    # The person's bare address: an E.164 number, or a WhatsApp business-scoped user id.
    from_number: str
    to_address: str
    body: str  # the text as the person wrote it (base64 transport encoding undone, button text used)
    num_media: int  # attachments, counting a shared location (its coordinates are never kept)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status callback, mapped onto the outbox's own statuses.

    ``status`` is None for statuses that say nothing about an outbound message
    (an inbound "received"); such callbacks are acknowledged and ignored.
    """

    provider_sid: str
    status: str | None
    error_code: int | None = None
    retry: bool = False  # the provider refused for now (rate limit, queue overflow): send again later
    opt_out: bool = False  # the recipient unsubscribed: nothing more may be sent


@dataclass(frozen=True)
class SendReceipt:
    provider_sid: str
    status: str


class Channel(Protocol):
    """What the webhook and the send job need from a messaging provider."""

    def verify(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        """True when ``signature`` proves the provider sent ``form`` to ``url``."""

    def parse_inbound(self, form: Mapping[str, str]) -> InboundForm:
        """Decode an inbound message; raise BadRequest naming the problem."""

    def map_status(self, form: Mapping[str, str]) -> StatusUpdate:
        """Decode a delivery status callback; raise BadRequest naming the problem."""

    def send(self, channel: str, to_number: str, body: str) -> SendReceipt:
        """Hand one message to the provider; raise a SendError subclass on failure."""

    def send_template(self, to_number: str, content_sid: str, variables: dict[str, str]) -> SendReceipt:
        """Send an approved WhatsApp template (outside the 24 h window); errors as for send."""

    def find_sent(self, channel: str, to_number: str, body_sha256: str, since: datetime) -> str | None:
        """The provider's id of a message already accepted with this body, if any."""
