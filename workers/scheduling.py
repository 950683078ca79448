"""Courses and check-ins: who gets which step, when, exactly once.

The database is the record. A person's requests (join a course, PAUSE, RESUME,
TIME 7) are audit events written with their turn, so they survive any crash;
``apply_requests`` turns them into enrolments and settings, in order, once.
``tick`` runs in every worker's housekeeping thread: it finds enrolments whose
next step is due, writes one outbox row per (enrolment, step) and advances the
enrolment, all in one transaction. The row's unique (enrollment_id,
course_step) index and the enrolment's version column mean that however many
workers tick at once, on however many machines, each step is written once;
the outbox then sends it once. A step that can no longer go out in its window
(the workers were down overnight) is recorded as "skipped", never sent late
into the night.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.conversation.locales import fallback_chain, parse
from bot.services import Services
from content.errors import ContentMissing
from core.outbox import fill
from core.sms import compose
from core.tables import (
    AuditEvent,
    Contact,
    CourseEnrollment,
    EnrollmentStatus,
    InboundMessage,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)
from core.timezones import (
    QuietHours,
    UnknownZone,
    first_due,
    local_date,
    next_slot,
    parse_clock,
    send_deadline,
    slot,
    zone,
    zone_for_number,
)

log = logging.getLogger(__name__)

ENROL, PAUSE, RESUME, TIME = "schedule.enrol", "schedule.pause", "schedule.resume", "schedule.time"
REQUESTS = (ENROL, PAUSE, RESUME, TIME)
COURSE_KIND = "course"
BATCH = 500
REQUEST_LOOKBACK = timedelta(days=7)


@dataclass
class TickReport:
    created: int = 0
    skipped: int = 0
    held: int = 0
    finished: int = 0
    conflicts: int = 0
    requests: int = 0
    outbox_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Calendar:
    """The settings every schedule computation needs."""

    quiet: QuietHours
    max_late: timedelta
    default_zone: str

    @classmethod
    def from_config(cls, config: Any) -> Calendar:
        return cls(QuietHours.parse(config.QUIET_HOURS), timedelta(seconds=config.SCHEDULE_MAX_LATE_S),
                   config.DEFAULT_TIMEZONE)


# -- the course as an endless sequence of steps -------------------------------------
def step_at(course: Any, n: int) -> tuple[str, int] | None:
    """(message id, day offset) of the n-th message a course ever sends, or None when done.

    A repeating check-in goes on for ever: its steps come round again every
    ``repeat_every_days``.
    """
    steps = course.steps
    if not steps:
        return None
    if course.repeat_every_days:
        cycle, index = divmod(n, len(steps))
        return steps[index].message_id, steps[index].day + cycle * course.repeat_every_days
    if n >= len(steps):
        return None
    return steps[n].message_id, steps[n].day


def send_minute(contact: Contact, course: Any) -> int:
    return contact.send_minute if contact.send_minute is not None else parse_clock(course.send_time)


def contact_zone(services: Services, contact: Contact, calendar: Calendar) -> Any:
    """The person's zone, derived from their number the first time it is needed."""
    if contact.time_zone is None:
        number = services.cipher.decrypt(contact.phone_enc, b"phone")
        contact.time_zone = zone_for_number(number, calendar.default_zone)
    try:
        return zone(contact.time_zone)
    except UnknownZone:
        return zone(calendar.default_zone)


def _due_of(enrollment: CourseEnrollment, day: int, minute: int, tz: Any, calendar: Calendar) -> datetime:
    return slot(enrollment.anchor_date + timedelta(days=day), minute, tz, calendar.quiet)


def _reschedule(enrollment: CourseEnrollment, course: Any, minute: int, tz: Any, calendar: Calendar,
                now: datetime) -> None:
    """Move the next step to the new hour on its planned day, or the next such hour if that has passed.

    Later steps keep their spacing, because their days count from the moved anchor.
    """
    current = step_at(course, enrollment.step)
    if current is None:
        return
    due = _due_of(enrollment, current[1], minute, tz, calendar)
    if due <= now:
        due = next_slot(now, minute, tz, calendar.quiet)
    enrollment.anchor_date = local_date(due, tz) - timedelta(days=current[1])
    enrollment.next_due_at = due


# -- the person's requests ------------------------------------------------------------
def _enrol(services: Services, session: Session, contact: Contact, course_id: str, calendar: Calendar,
           now: datetime) -> None:
    course = _course_or_none(services, course_id)
    if course is None:
        log.warning("schedule.unknown_course", extra={"course": course_id})
        return
    active = session.scalars(select(CourseEnrollment).where(
        CourseEnrollment.contact_id == contact.id, CourseEnrollment.course_id == course_id,
        CourseEnrollment.status == EnrollmentStatus.ACTIVE)).first()
    first = step_at(course, 0)
    if active is not None or first is None:
        return
    tz = contact_zone(services, contact, calendar)
    minute = send_minute(contact, course)
    if first[1] == 0:
        due = first_due(now, tz, calendar.quiet, minute)
        anchor = local_date(due, tz)
    else:
        anchor = local_date(now, tz)
        due = slot(anchor + timedelta(days=first[1]), minute, tz, calendar.quiet)
    session.add(CourseEnrollment(contact_id=contact.id, course_id=course.id, course_version=course.version,
                                 anchor_date=anchor, step=0, next_due_at=due))
    log.info("schedule.enrolled", extra={"course": course.id, "contact_id": contact.id})


def _apply_one(services: Services, session: Session, contact: Contact, event: AuditEvent, calendar: Calendar,
               now: datetime) -> None:
    detail = event.detail or {}
    if event.action == ENROL:
        _enrol(services, session, contact, str(detail.get("course", "")), calendar, now)
        return
    if event.action == PAUSE:
        contact.reminders_paused = True
        return
    if event.action == RESUME:
        contact.reminders_paused = False
    elif event.action == TIME:
        minute = detail.get("minute")
        if not isinstance(minute, int) or not 0 <= minute < 24 * 60:
            log.warning("schedule.bad_request", extra={"event_id": event.id})
            return
        contact.send_minute = minute
        if detail.get("zone"):
            contact.time_zone = str(detail["zone"])
    tz = contact_zone(services, contact, calendar)
    for enrollment in session.scalars(select(CourseEnrollment).where(
            CourseEnrollment.contact_id == contact.id, CourseEnrollment.status == EnrollmentStatus.ACTIVE)
            .with_for_update()):
        course = _course_or_none(services, enrollment.course_id)
        if course is not None:
            _reschedule(enrollment, course, send_minute(contact, course), tz, calendar, now)


def apply_requests(services: Services, contact_id: int, now: datetime | None = None) -> int:
    """Apply the person's schedule requests not yet applied, in order; return how many.

    The contact row is locked and its watermark moves in the same transaction, so two
    workers applying at once apply each request exactly once.
    """
    now = now or utcnow()
    calendar = Calendar.from_config(services.config)
    with services.db.session() as session:
        contact = session.scalars(select(Contact).where(Contact.id == contact_id).with_for_update()).first()
        if contact is None:
            return 0
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.contact_id == contact_id, AuditEvent.action.in_(REQUESTS),
            AuditEvent.id > func.coalesce(contact.schedule_event_id, 0)).order_by(AuditEvent.id)).all()
        for event in events:
            _apply_one(services, session, contact, event, calendar, now)
            contact.schedule_event_id = event.id
    if events:
        log.info("schedule.requests_applied", extra={"contact_id": contact_id, "count": len(events)})
    return len(events)


def apply_requests_for_message(services: Services, message_id: int) -> int:
    """After a turn: apply what the person asked for in it (join, PAUSE, RESUME, TIME)."""
    with services.db.session() as session:
        contact_id = session.scalar(select(InboundMessage.contact_id).where(InboundMessage.id == message_id))
    return apply_requests(services, contact_id) if contact_id is not None else 0


def _unapplied_request_contacts(services: Services, now: datetime) -> list[int]:
    """People with requests that a crash kept from being applied (recent ones only)."""
    with services.db.session() as session:
        return list(session.scalars(
            select(AuditEvent.contact_id).distinct()
            .join(Contact, Contact.id == AuditEvent.contact_id)
            .where(AuditEvent.action.in_(REQUESTS), AuditEvent.created_at >= now - REQUEST_LOOKBACK,
                   AuditEvent.id > func.coalesce(Contact.schedule_event_id, 0))
            .limit(BATCH)))


# -- the tick -------------------------------------------------------------------------
def _course_or_none(services: Services, course_id: str) -> Any:
    try:
        return services.library.course(course_id)
    except ContentMissing:
        return None


def _end(enrollment: CourseEnrollment, status: str, now: datetime) -> None:
    enrollment.status, enrollment.next_due_at, enrollment.ended_at = status, None, now


def _fallbacks(services: Services, contact: Contact) -> tuple[str, ...]:
    """As for replies: the person's accepted locales, their region's default, the library default."""
    content = services.library
    try:
        region_locale = content.region(contact.region or services.config.DEFAULT_REGION).default_locale
    except ContentMissing:
        region_locale = None
    return fallback_chain(parse(contact.accepted_locales), region_locale, content.default_locale)


def _row(services: Services, session: Session, contact: Contact, enrollment: CourseEnrollment, message_id: str,
         deadline: datetime, skipped: bool) -> OutboxMessage:
    """The step's outbox row: pending with its text (approved now), or a record that it was skipped."""
    content = services.content(session)
    row = OutboxMessage(contact_id=contact.id, channel=contact.channel, content_ref=message_id,
                        locale=contact.locale, kind=COURSE_KIND, enrollment_id=enrollment.id,
                        course_step=enrollment.step, not_after=deadline, attempts=0, body_sha256="", segments=0)
    try:
        rendered = content.render(message_id, contact.locale or content.default_locale, contact.channel,
                                  fallbacks=_fallbacks(services, contact))
    except ContentMissing:
        log.error("schedule.no_approved_text", extra={"item": message_id})
        row.status, row.status_at, row.error = OutboxStatus.SKIPPED, utcnow(), "no approved text"
        return row
    row.content_ref, row.locale = rendered.ref, rendered.locale
    if skipped:
        row.status, row.status_at, row.error = OutboxStatus.SKIPPED, utcnow(), "missed its window"
        return row
    # One row per step (the exactly-once key), so a long step goes as one concatenated message.
    row.status = OutboxStatus.PENDING
    return fill(row, " ".join(compose(rendered.text, contact.channel, 10)), services.cipher)


def _advance(enrollment: CourseEnrollment, course: Any, minute: int, tz: Any, calendar: Calendar,
             now: datetime) -> bool:
    """Move to the next step; False when the course is finished."""
    enrollment.step += 1
    upcoming = step_at(course, enrollment.step)
    if upcoming is None:
        _end(enrollment, EnrollmentStatus.COMPLETED, now)
        return False
    enrollment.next_due_at = _due_of(enrollment, upcoming[1], minute, tz, calendar)
    return True


def _process(services: Services, session: Session, enrollment: CourseEnrollment, contact: Contact,
             calendar: Calendar, now: datetime, report: TickReport) -> OutboxMessage | None:
    course = _course_or_none(services, enrollment.course_id)
    if course is None or contact.opted_out:
        # A retired course, or a person who said STOP: nothing more, ever, from this enrolment.
        _end(enrollment, EnrollmentStatus.CANCELLED, now)
        report.finished += 1
        return None
    tz = contact_zone(services, contact, calendar)
    minute = send_minute(contact, course)
    if contact.paused or contact.reminders_paused:
        # Held, not skipped: the same step comes back at the next hour after they resume.
        due = next_slot(now, minute, tz, calendar.quiet)
        current = step_at(course, enrollment.step)
        enrollment.anchor_date = local_date(due, tz) - timedelta(days=current[1] if current else 0)
        enrollment.next_due_at = due
        report.held += 1
        return None
    current = step_at(course, enrollment.step)
    if current is None:
        _end(enrollment, EnrollmentStatus.COMPLETED, now)
        report.finished += 1
        return None
    due = enrollment.next_due_at or now
    due = due if due.tzinfo else due.replace(tzinfo=now.tzinfo)
    deadline = send_deadline(due, tz, calendar.quiet, calendar.max_late)
    missed = now > deadline
    row = _row(services, session, contact, enrollment, current[0], deadline, skipped=missed)
    session.add(row)
    missed = row.status == OutboxStatus.SKIPPED
    if missed:
        report.skipped += 1
    else:
        report.created += 1
    if not _advance(enrollment, course, minute, tz, calendar, now):
        report.finished += 1
    return None if missed else row


def _batch(services: Services, calendar: Calendar, now: datetime, report: TickReport) -> int:
    """One transaction: up to BATCH due enrolments become outbox rows. Returns how many were due."""
    with services.db.session() as session:
        due = session.scalars(
            select(CourseEnrollment)
            .where(CourseEnrollment.status == EnrollmentStatus.ACTIVE, CourseEnrollment.next_due_at <= now)
            .order_by(CourseEnrollment.next_due_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)  # PostgreSQL: concurrent ticks take disjoint rows
        ).all()
        if not due:
            return 0
        contacts = {c.id: c for c in session.scalars(
            select(Contact).where(Contact.id.in_({e.contact_id for e in due})))}
        rows = [_process(services, session, e, contacts[e.contact_id], calendar, now, report) for e in due]
        session.flush()
        created = [row.id for row in rows if row is not None]
    report.outbox_ids.extend(created)
    services.jobs.enqueue_scheduled_sends(created)
    return len(due)


def _expire_waiting(services: Services, now: datetime) -> int:
    """WhatsApp rows held for the 24 h window whose own window has closed are skipped."""
    with services.db.session() as session:
        return session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.WAITING, OutboxMessage.not_after < now)
            .values(status=OutboxStatus.SKIPPED, status_at=now, error="missed its window")
        ).rowcount


def tick(services: Services, now: datetime | None = None, budget_s: float = 30.0) -> TickReport:
    """Apply stranded requests, then write every due step (in batches, within ``budget_s``)."""
    now = now or utcnow()
    calendar = Calendar.from_config(services.config)
    report = TickReport()
    for contact_id in _unapplied_request_contacts(services, now):
        report.requests += apply_requests(services, contact_id, now)
    started = clock.monotonic()
    while clock.monotonic() - started < budget_s:
        try:
            due = _batch(services, calendar, now, report)
        except (IntegrityError, StaleDataError):
            # Another worker wrote or moved some of these first; its work stands. Look again.
            report.conflicts += 1
            log.info("schedule.conflict", extra={"conflicts": report.conflicts})
            if report.conflicts > 5:
                break
            continue
        if due < BATCH:
            break
    skipped = _expire_waiting(services, now)
    report.skipped += skipped
    if report.created or report.skipped or report.held or report.finished:
        log.info("schedule.tick", extra={"written": report.created, "skipped": report.skipped,
                                         "held": report.held, "finished": report.finished})
    return report
