"""The outbox: every message Tumaini sends is a row here before it goes anywhere.

One room owns the rules every writer of the outbox shares, so the conversation's
replies, the scheduler's course steps, staff replies from the portal and on-call
alerts are built, ordered and queued the same way:

- :func:`new_rows` turns a text into stored rows: split for the channel, each part
  encrypted with its digest and SMS segment count.
- :func:`queue_next_for` puts a person's next open row in the send queue unless a live
  job already holds it (replies first, oldest first, then scheduled content), and
  :func:`queue_staff_row` does the same for a message to staff.
- :func:`outside_window` is the WhatsApp 24 h window policy.
- :class:`ErrorKind` names why a send failed, stored with the row, so nobody re-derives
  it from an error text.

This module imports neither Flask nor the workers; ``services`` is anything with
``db``, ``jobs`` and ``config`` (the web app's and the worker's alike).
"""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from core.crypto import Cipher
from core.sms import Channel, compose, segment_info
from core.tables import Contact, OutboxMessage, OutboxStatus, utcnow

CRISIS_KIND = "crisis"
OPTOUT_CONFIRMATION = "optout_confirmation"
# WhatsApp accepts free-form messages for 24 h after the person's last message; keep a margin.
WHATSAPP_WINDOW = timedelta(hours=24) - timedelta(minutes=2)


class ErrorKind(enum.StrEnum):
    """Why a row's last send attempt failed (``OutboxMessage.error_kind``)."""

    OPTED_OUT = "opted_out"  # the person opted out at the carrier (21610): never resent
    OUTSIDE_WINDOW = "outside_window"  # WhatsApp refused it outside the 24 h window (63016)
    RETRYABLE = "retryable"  # Twilio or the carrier said "later" (timeouts, 5xx, 63018...)
    OUTCOME_UNKNOWN = "outcome_unknown"  # Twilio may hold it: look before sending again
    PERMANENT = "permanent"  # Twilio refused it (bad number, unreachable...)
    UNDELIVERED = "undelivered"  # accepted, then reported failed or undelivered by the carrier


class OutboxServices(Protocol):
    """What queueing needs from a process's services."""

    @property
    def db(self) -> Any: ...

    @property
    def jobs(self) -> Any: ...

    @property
    def config(self) -> Any: ...


def body_digest(text: str) -> str:
    """The digest stored with a row: how an interrupted send is found at Twilio again."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands them back naive)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def fill(row: OutboxMessage, text: str, cipher: Cipher) -> OutboxMessage:
    """Seal ``text`` into ``row`` with its digest, segment count and encoding."""
    info = segment_info(text)
    row.body_enc = cipher.encrypt(text, b"body")
    row.body_sha256 = body_digest(text)
    row.segments, row.encoding = info.segments, info.encoding
    return row


def new_rows(cipher: Cipher, text: str, channel: Channel, segment_budget: int, **fields: Any) -> list[OutboxMessage]:
    """Rows for ``text`` on ``channel``: one per part when it is longer than the budget allows."""
    return [fill(OutboxMessage(channel=channel, **fields), part, cipher)
            for part in compose(text, channel, segment_budget)]


def outside_window(channel: str, last_inbound_at: datetime | None, scheduled: bool, now: datetime) -> bool:
    """Whether a free-form WhatsApp message may no longer go to this person.

    Replies answer a message, so they are inside the window unless a backlog kept them for
    a day; scheduled content is checked against the person's last message, and a person who
    never wrote is outside it.
    """
    if channel != "whatsapp":
        return False
    last = as_utc(last_inbound_at)
    if last is None:
        return scheduled
    return now - last > WHATSAPP_WINDOW


def next_pending(session: Session, contact_id: int) -> OutboxMessage | None:
    """The row to send next: replies first, oldest first; then scheduled content."""
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.contact_id == contact_id, OutboxMessage.status.in_(OutboxStatus.OPEN))
        .order_by(OutboxMessage.enrollment_id.is_not(None), OutboxMessage.id)
        .limit(1)
    ).first()


def release_waiting(session: Session, contact_id: int) -> None:
    """The person wrote: rows held for the WhatsApp window may go now.

    A row WhatsApp itself refused as outside the window (63016, stamped with status_at)
    waits for a message written after that refusal.
    """
    fresh = utcnow() - WHATSAPP_WINDOW
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact_id, OutboxMessage.status == OutboxStatus.WAITING,
               exists().where(Contact.id == contact_id, Contact.last_inbound_at >= fresh,
                              or_(OutboxMessage.status_at.is_(None), Contact.last_inbound_at > OutboxMessage.status_at)))
        .values(status=OutboxStatus.PENDING)
    )


def _delay(not_before: datetime | None) -> float:
    return max(0.0, (not_before - utcnow()).total_seconds()) if not_before else 0.0


def queue_next_for(services: OutboxServices, contact_id: int | None, stale_after_s: float | None = None) -> int | None:
    """Queue the person's next open row unless it already has a live job; returns its id.

    Staff rows have no person and no order: each is queued by itself (:func:`queue_staff_row`).
    A crisis reply goes to the front of the send queue, ahead of everyone's ordinary replies.
    """
    if contact_id is None:
        return None
    with services.db.session() as session:
        release_waiting(session, contact_id)
        row = next_pending(session, contact_id)
        if row is None:
            return None
        row_id, attempt, not_before = row.id, row.attempts, as_utc(row.next_attempt_at)
        scheduled, urgent = row.enrollment_id is not None, row.kind == CRISIS_KIND
    stale = stale_after_s if stale_after_s is not None else services.config.PROCESSING_LEASE_S
    queued = services.jobs.enqueue_send_unless_live(row_id, attempt, stale, delay_s=_delay(not_before),
                                                    scheduled=scheduled, at_front=urgent)
    return row_id if queued else None


def queue_staff_row(services: OutboxServices, row_id: int, stale_after_s: float) -> bool:
    """Queue an open row addressed to staff (an on-call alert) unless it has a live job."""
    with services.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.status not in OutboxStatus.OPEN:
            return False
        attempt, not_before = row.attempts, as_utc(row.next_attempt_at)
    return bool(services.jobs.enqueue_send_unless_live(row_id, attempt, stale_after_s, delay_s=_delay(not_before)))


__all__ = [
    "CRISIS_KIND",
    "OPTOUT_CONFIRMATION",
    "WHATSAPP_WINDOW",
    "ErrorKind",
    "as_utc",
    "body_digest",
    "fill",
    "new_rows",
    "next_pending",
    "outside_window",
    "queue_next_for",
    "queue_staff_row",
    "release_waiting",
]
