"""Sending at scale: paced per sender, replies ahead of course content, requests never lost."""

from __future__ import annotations

import time
from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.outbox import body_digest, queue_next_for
from core.tables import CourseEnrollment, OutboxMessage, OutboxStatus
from tests.conftest import drain
from tests.scheduling.conftest import add_contact, enrol, request, zone_at_local_hour
from workers.scheduling import ENROL, TIME, tick


def test_a_course_step_for_many_people_drains_at_the_sender_rate(make_services, twilio_standin):
    rate, people = 8.0, 9
    services = make_services(SENDER_RATE_PER_S=rate)
    zone = zone_at_local_hour(12)
    for i in range(people):
        enrol(services, f"+2547000050{i:02d}", time_zone=zone)
    assert tick(services).created == people
    started = time.monotonic()
    drain(services)
    elapsed = time.monotonic() - started
    assert len(twilio_standin.store.all()) == people
    assert elapsed >= (people - 1) / rate


def test_a_reply_to_someone_who_just_wrote_goes_ahead_of_queued_course_content(make_services, twilio_standin):
    services = make_services()
    zone = zone_at_local_hour(12)
    for i in range(5):
        enrol(services, f"+2547000051{i:02d}", time_zone=zone)
    tick(services)  # five course messages queued first...
    writer = add_contact(services, "+254700005199")
    with services.db.session() as session:  # ...then a reply to someone who just wrote
        session.add(OutboxMessage(contact_id=writer, channel="sms", body_enc=services.cipher.encrypt("reply", b"body"),
                                  body_sha256=body_digest("reply"), kind="reply"))
    queue_next_for(services, writer)
    drain(services)
    sent = twilio_standin.store.all()
    assert len(sent) == 6 and sent[0].to == "+254700005199"


def test_course_content_never_holds_up_a_persons_replies(make_services, twilio_standin):
    services = make_services()
    contact = enrol(services, "+254700005201", time_zone=zone_at_local_hour(12))
    tick(services)
    with services.db.session() as session:
        session.add(OutboxMessage(contact_id=contact, channel="sms", body_enc=services.cipher.encrypt("reply", b"body"),
                                  body_sha256=body_digest("reply"), kind="reply"))
    queue_next_for(services, contact)
    drain(services)
    assert [b[:6] for b in twilio_standin.bodies_to("+254700005201")] == ["reply", "Day 1:"]
    with services.db.session() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {OutboxStatus.SENT}


def test_requests_stored_by_a_worker_that_died_before_applying_them_are_applied_by_the_tick(make_services):
    services = make_services()
    zone = zone_at_local_hour(12)
    contact = add_contact(services, "+254700005301", time_zone=zone)
    request(services, contact, ENROL, course="doing_what_matters")
    request(services, contact, TIME, minute=17 * 60, zone=None)  # applied in order: join, then 17:00
    report = tick(services)
    assert report.requests == 2 and report.created == 0
    with services.db.session() as session:
        enrollment = session.scalars(select(CourseEnrollment)).one()
    due = enrollment.next_due_at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    assert enrollment.step == 0 and (due.hour, due.minute) == (17, 0)
    assert tick(services).requests == 0  # each request applies once
