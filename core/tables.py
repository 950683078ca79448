"""Database tables.

Personal data is never stored in clear: phone numbers as a keyed HMAC (lookup)
plus ciphertext (sending), message bodies as ciphertext. Status columns are
plain strings so the sweeper and the portal can query them cheaply.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class InboundStatus:
    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    PENDING = (RECEIVED, PROCESSING)


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"  # handed to the provider; outcome not yet recorded
    SENT = "sent"  # accepted by the provider (Twilio: queued/sent)
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # not sent: the person opted out, or erased their data
    SKIPPED = "skipped"  # scheduled content not sent: it missed its window, or the person paused
    WAITING = "waiting"  # WhatsApp, outside the 24 h window: held until the person writes
    OPEN = (PENDING, SENDING)
    # Delivery callbacks never move a row backwards along this order.
    RANK = {PENDING: 0, WAITING: 0, SENDING: 1, SENT: 2, UNDELIVERED: 3, FAILED: 3, DELIVERED: 4, READ: 5,
            SUPPRESSED: 5, SKIPPED: 5}


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    locale: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(32))
    # Every locale the person chose, most recent first ("sw,en"): replies fall back through them.
    accepted_locales: Mapped[str | None] = mapped_column(String(100))
    consent_version: Mapped[str | None] = mapped_column(String(64))
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # empty: the state is sealed below
    # The conversation state (a screening's answers so far...), sealed: core.health.
    state_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Scheduling: IANA zone (from the number's country, or the person's TIME ... override),
    # chosen minute of the local day (None: each course's own hour), and PAUSE/RESUME.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    send_minute: Mapped[int | None] = mapped_column(Integer)
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_fallback: Mapped[bool] = mapped_column(Boolean, default=False)  # WhatsApp outside 24 h may go by SMS
    schedule_event_id: Mapped[int | None] = mapped_column(Integer)  # last schedule request applied


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_status_received", "status", "received_at"),
        Index("ix_inbound_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    from_hash: Mapped[str] = mapped_column(String(64), index=True)
    from_enc: Mapped[bytes] = mapped_column(LargeBinary)
    to_address: Mapped[str] = mapped_column(String(64))  # our own number, not personal data
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.RECEIVED)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_created", "status", "created_at"),
        Index("ix_outbox_created_at", "created_at"),
        Index("uq_outbox_enrollment_step", "enrollment_id", "course_step", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))  # reconciles an interrupted send
    content_ref: Mapped[str | None] = mapped_column(String(128))  # "item@version", or "generated:model"
    locale: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32), default="reply")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    error_kind: Mapped[str | None] = mapped_column(String(24))  # core.outbox.ErrorKind of the last failure
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Scheduled content: one row per (enrolment, step), ever; skipped if not sent by not_after.
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("course_enrollments.id", ondelete="CASCADE"))
    course_step: Mapped[int | None] = mapped_column(Integer)
    not_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    template_sid: Mapped[str | None] = mapped_column(String(64))  # WhatsApp template used outside 24 h
    # A message to a member of staff (an on-call alert), not to a person the service supports:
    # no contact row, the recipient's number sealed here (context b"phone").
    to_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    contact: Mapped[Contact | None] = relationship()


class EnrollmentStatus:
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # the person opted out


class CourseEnrollment(Base):
    """A person on a course or check-in. ``step`` counts every message ever due, so a
    repeating check-in keeps counting; a step's local day is ``anchor_date + offset``."""

    __tablename__ = "course_enrollments"
    __table_args__ = (Index("ix_course_enrollments_due", "status", "next_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(String(64))
    course_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=EnrollmentStatus.ACTIVE)
    anchor_date: Mapped[date] = mapped_column(Date)
    step: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)  # optimistic lock: two schedulers cannot both advance it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}


class ConsentRecord(Base):
    """Each consent given or withdrawn, with the version of the wording shown."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    wording_ref: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))  # given | declined | withdrawn
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """What the system or a person did, and why, without personal data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "system", "worker", or a staff user id
    action: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseKind:
    CRISIS = "crisis"  # opened by the safety gate
    HANDOFF = "handoff"  # the person asked for a human


class Escalation(Base):
    """A case for a health worker: opened by the safety gate or by a request for a person.

    ``alert_tier`` counts the rungs of the on-call ladder already alerted (0: nobody yet,
    1: the on-call person, 2: the backup, 3: the supervisor); ``next_alert_at`` is when the
    next rung is due if nobody has acknowledged. Acknowledging sets the owner, once.
    """

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_next_alert", "status", "next_alert_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")  # rule ids, never message text
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default=CaseKind.CRISIS)
    category: Mapped[str | None] = mapped_column(String(32))  # a shared risk category id, or None
    region: Mapped[str | None] = mapped_column(String(32))  # whose rota is alerted
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_via: Mapped[str | None] = mapped_column(String(16))  # portal | sms
    alert_tier: Mapped[int] = mapped_column(Integer, default=0)
    next_alert_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ack_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the severity's time to acknowledge
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first staff reply sent


class OncallShift(Base):
    """Who answers a region's alerts between two moments, with the backup and supervisor behind them."""

    __tablename__ = "oncall_shifts"
    __table_args__ = (Index("ix_oncall_shifts_region_time", "region", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    oncall_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    backup_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseAlert(Base):
    """One alert about a case to one recipient on one rung of the ladder, written once.

    The unique index is what makes an alert exactly-once when several workers escalate at
    the same moment. SMS alerts point at their outbox row; webhook alerts carry their own
    delivery state. ``recipient_hash`` is the staff number's keyed HMAC, never the number.
    """

    __tablename__ = "case_alerts"
    __table_args__ = (
        UniqueConstraint("escalation_id", "tier", "channel", "recipient_hash", name="uq_case_alerts_once"),
        Index("ix_case_alerts_status", "channel", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    tier: Mapped[int] = mapped_column(Integer)  # 1 on call, 2 backup, 3 supervisor
    channel: Mapped[str] = mapped_column(String(16))  # sms | webhook
    recipient_hash: Mapped[str] = mapped_column(String(64))  # HMAC of the number, or "webhook"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # webhook: pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageCount(Base):
    """Daily message counts that outlive the messages themselves (retention keeps only these)."""

    __tablename__ = "message_counts"
    __table_args__ = (UniqueConstraint("day", "channel", "direction", name="uq_message_counts_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    count: Mapped[int] = mapped_column(Integer, default=0)


# Staff accounts belong to the portal (bot.portal.models.User, which extends this table);
# cases and shifts point at them, so the core registers the key they point at. A worker
# never loads the portal, yet can write a case with an owner.
if "users" not in Base.metadata.tables:
    Table("users", Base.metadata, Column("id", Integer, primary_key=True))


class ErasureRequest(Base):
    """A person's DELETE, recorded in the turn that confirmed it and finished by a worker or the sweeper.

    ``contact_id`` goes to NULL when the person's rows are gone (``done_at``). ``provider_sids``
    are Twilio's ids of their messages, kept only until Twilio has deleted its copies too
    (``twilio_done_at``); ``removed`` counts what went, with no personal data.
    """

    __tablename__ = "erasure_requests"
    __table_args__ = (Index("ix_erasure_requests_open", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_sids: Mapped[list[str]] = mapped_column(JSON, default=list)
    twilio_done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
