"""The scheduler tick on real SQLite and PostgreSQL, real Redis and the Twilio stand-in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.tables import Contact, CourseEnrollment, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import drain, inbound_form, post_signed
from tests.scheduling.conftest import enrol, enrollment_of, hours, rows_of, set_due, zone_at_local_hour
from workers.scheduling import tick

DAY1 = "Day 1: Stress is normal"
DAY2 = "Day 2: Difficult thoughts"


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def test_joining_sends_the_first_step_now_and_the_next_at_the_persons_hour(make_services, twilio_standin):
    services = make_services()
    zone = zone_at_local_hour(12)
    contact = enrol(services, "+254700000101", time_zone=zone)
    report = tick(services)
    assert report.created == 1
    drain(services)
    assert twilio_standin.bodies_to("+254700000101")[0].startswith(DAY1)
    enrollment = enrollment_of(services, contact)
    due = _local(enrollment.next_due_at.replace(tzinfo=UTC), zone)
    assert enrollment.step == 1 and (due.hour, due.minute) == (9, 0)  # the course's 09:00, tomorrow
    assert due.date() == _local(utcnow(), zone).date() + timedelta(days=1)
    assert tick(services).created == 0  # nothing more is due today


def test_each_step_is_written_once_and_the_course_completes(make_services):
    services = make_services()
    zone = "Africa/Nairobi"
    start = datetime(2025, 3, 10, 6, 30, tzinfo=UTC)  # 09:30 in Nairobi
    contact = enrol(services, "+254700000102", now=start, time_zone=zone)
    for day in range(9):
        tick(services, now=start + timedelta(days=day, hours=1))
        tick(services, now=start + timedelta(days=day, hours=2))  # a second tick finds nothing new
    rows = rows_of(services, contact)
    assert [r.course_step for r in rows] == list(range(7))
    assert [r.content_ref.split("@")[0] for r in rows] == [f"course.doing_what_matters.day{i}" for i in range(1, 8)]
    assert all(r.status == OutboxStatus.PENDING and r.kind == "course" for r in rows)
    enrollment = enrollment_of(services, contact)
    assert enrollment.status == "completed" and enrollment.next_due_at is None


def test_the_weekly_check_in_repeats_every_seven_days(make_services):
    services = make_services()
    start = datetime(2025, 3, 10, 6, 30, tzinfo=UTC)
    contact = enrol(services, "+254700000103", course="weekly_checkin", now=start, time_zone="Africa/Nairobi")
    first_due = enrollment_of(services, contact).next_due_at.replace(tzinfo=UTC)
    assert first_due == datetime(2025, 3, 17, 14, 0, tzinfo=UTC)  # 17:00 Nairobi, a week on
    tick(services, now=first_due + timedelta(minutes=1))
    second_due = enrollment_of(services, contact).next_due_at.replace(tzinfo=UTC)
    assert second_due == first_due + timedelta(days=7)
    assert [r.content_ref.split("@")[0] for r in rows_of(services, contact)] == ["checkin.weekly"]


def test_a_step_missed_while_workers_were_down_overnight_is_skipped_not_sent_at_3am(make_services, twilio_standin):
    services = make_services()
    zone = zone_at_local_hour(3)
    contact = enrol(services, "+254700000104", time_zone=zone)
    now = utcnow()
    yesterday_nine = now - hours(18)  # 09:00 local yesterday, give or take the minutes
    set_due(services, contact, yesterday_nine)
    report = tick(services)
    drain(services)
    assert report.skipped == 1 and report.created == 0
    [row] = rows_of(services, contact)
    assert row.status == OutboxStatus.SKIPPED and row.error == "missed its window" and row.body_enc is None
    assert twilio_standin.store.requests == 0
    enrollment = enrollment_of(services, contact)
    next_due = _local(enrollment.next_due_at.replace(tzinfo=UTC), zone)
    assert enrollment.step == 1 and next_due.hour == 9 and next_due > _local(now, zone)  # today, at 09:00


def test_quiet_hours_are_never_broken_even_if_the_persons_zone_changes_after_queueing(make_services,
                                                                                      twilio_standin):
    services = make_services()
    contact = enrol(services, "+254700000105", time_zone=zone_at_local_hour(12))
    tick(services)  # the row is written and queued...
    with services.db.session() as session:
        session.get(Contact, contact).time_zone = zone_at_local_hour(2)  # ...then it is 02:00 for them
    drain(services)
    [row] = rows_of(services, contact)
    assert row.status == OutboxStatus.SKIPPED and row.error == "quiet hours"
    assert twilio_standin.store.requests == 0


def test_a_course_step_queued_while_the_person_opts_out_is_suppressed(make_services, twilio_standin):
    services = make_services()
    phone = "+254700000106"
    contact = enrol(services, phone, time_zone=zone_at_local_hour(12))
    tick(services)  # the day's step is queued (lowest priority)...
    from bot import create_app

    client = create_app(services.config).test_client()
    assert post_signed(client, inbound_form("STOP", phone=phone)).status_code == 200  # ...and STOP arrives
    drain(services)
    bodies = twilio_standin.bodies_to(phone)
    assert len(bodies) == 1 and "no more messages" in bodies[0]  # only the opt-out confirmation
    course_row = next(r for r in rows_of(services, contact) if r.kind == "course")
    assert course_row.status == OutboxStatus.SUPPRESSED
    set_due(services, contact, utcnow())
    tick(services)
    assert enrollment_of(services, contact).status == "cancelled"


def test_a_crisis_pause_holds_the_course_until_the_case_is_closed(make_services, twilio_standin):
    services = make_services()
    contact = enrol(services, "+254700000107", time_zone=zone_at_local_hour(12), paused=True)
    report = tick(services)
    assert report.held == 1 and report.created == 0 and rows_of(services, contact) == []
    enrollment = enrollment_of(services, contact)
    assert enrollment.step == 0 and enrollment.next_due_at.replace(tzinfo=UTC) > utcnow()
    with services.db.session() as session:
        session.get(Contact, contact).paused = False  # the portal closed the case
    set_due(services, contact, utcnow())
    tick(services)
    drain(services)
    assert twilio_standin.bodies_to("+254700000107")[0].startswith(DAY1)  # the same step, not a later one


def test_two_workers_ticking_at_once_write_each_due_step_once(make_services, twilio_standin):
    first, second = make_services(), make_services(install=False)
    zone = zone_at_local_hour(12)
    people = [enrol(first, f"+2547000020{i:02d}", time_zone=zone) for i in range(40)]
    barrier = threading.Barrier(2)
    reports = []

    def run(services):
        barrier.wait()
        reports.append(tick(services))

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.created for r in reports) == 40
    with first.db.session() as session:
        per_step = session.execute(select(OutboxMessage.enrollment_id, OutboxMessage.course_step, func.count())
                                   .group_by(OutboxMessage.enrollment_id, OutboxMessage.course_step)).all()
        steps = session.scalars(select(CourseEnrollment.step)).all()
    assert len(per_step) == 40 and all(count == 1 for _, _, count in per_step)
    assert steps == [1] * 40
    drain(first)
    assert sorted(m.to for m in twilio_standin.store.all()) == sorted(f"+2547000020{i:02d}" for i in range(40))
    assert len(people) == 40


def test_the_database_refuses_a_second_row_for_the_same_step(make_services):
    services = make_services()
    contact = enrol(services, "+254700000108", time_zone=zone_at_local_hour(12))
    tick(services)
    [row] = rows_of(services, contact)
    with pytest.raises(IntegrityError):
        with services.db.session() as session:
            session.add(OutboxMessage(contact_id=contact, channel="sms", body_sha256="", kind="course",
                                      enrollment_id=row.enrollment_id, course_step=row.course_step))
