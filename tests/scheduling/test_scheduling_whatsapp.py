"""WhatsApp's 24-hour window for scheduled content: free-form, template, SMS, or wait."""

from __future__ import annotations

import json

import pytest

from bot.simulator.twilio_api import Scripted
from core.tables import Contact, OutboxStatus, utcnow
from tests.conftest import drain, inbound_form, post_signed
from tests.scheduling.conftest import enrol, hours, rows_of, set_due, zone_at_local_hour
from workers.scheduling import tick


@pytest.fixture()
def database_url(sqlite_url: str) -> str:
    return sqlite_url


PHONE = "+254700000401"
TEMPLATE = "HX" + "a" * 32


def _enrolled(services, **fields) -> int:
    return enrol(services, PHONE, channel="whatsapp", time_zone=zone_at_local_hour(12), **fields)


def test_inside_the_window_a_course_step_goes_free_form(make_services, twilio_standin):
    services = make_services(WHATSAPP_TEMPLATES=(f"en:{TEMPLATE}",))
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(3))
    tick(services)
    drain(services)
    [message] = twilio_standin.store.all()
    assert message.to == "whatsapp:" + PHONE and message.body.startswith("Day 1:") and message.content_sid is None
    assert rows_of(services, contact)[0].template_sid is None


def test_outside_the_window_the_approved_template_is_sent_with_the_step_as_its_variable(make_services,
                                                                                        twilio_standin):
    services = make_services(WHATSAPP_TEMPLATES=(f"en:{TEMPLATE}", "sw:HX" + "b" * 32))
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(30))
    tick(services)
    drain(services)
    [message] = twilio_standin.store.all()
    assert message.to == "whatsapp:" + PHONE and message.content_sid == TEMPLATE
    assert json.loads(message.content_variables)["1"].startswith("Day 1:")
    [row] = rows_of(services, contact)
    assert row.status == OutboxStatus.SENT and row.template_sid == TEMPLATE and row.provider_sid == message.sid


def test_a_template_refused_by_a_busy_twilio_is_retried_and_delivered_once(make_services, twilio_standin):
    twilio_standin.store.script(Scripted(503, None), Scripted(429, 20429))
    services = make_services(WHATSAPP_TEMPLATES=(f"en:{TEMPLATE}",))
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(30))
    tick(services)
    drain(services)
    [message] = twilio_standin.store.all()
    assert message.content_sid == TEMPLATE and twilio_standin.store.requests == 3
    [row] = rows_of(services, contact)
    assert row.status == OutboxStatus.SENT and row.attempts == 3 and row.provider_sid == message.sid


def test_a_template_to_an_unsubscribed_recipient_opts_the_person_out(make_services, twilio_standin):
    twilio_standin.store.script(Scripted(400, 21610, "Attempt to send to unsubscribed recipient"))
    services = make_services(WHATSAPP_TEMPLATES=(f"en:{TEMPLATE}",))
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(30))
    tick(services)
    drain(services)
    assert twilio_standin.store.all() == [] and twilio_standin.store.requests == 1
    [row] = rows_of(services, contact)
    assert row.status == OutboxStatus.FAILED and row.error_code == 21610
    with services.db.session() as session:
        assert session.get(Contact, contact).opted_out


def test_outside_the_window_without_a_template_it_goes_by_sms_when_the_person_allowed_it(make_services,
                                                                                         twilio_standin):
    services = make_services()
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(30), sms_fallback=True)
    tick(services)
    drain(services)
    [message] = twilio_standin.store.all()
    assert message.to == PHONE and message.body.startswith("Day 1:")
    assert rows_of(services, contact)[0].channel == "sms"


def test_otherwise_it_waits_until_the_person_writes_and_then_follows_their_reply(make_services, twilio_standin):
    from bot import create_app

    services = make_services()
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(30))
    tick(services)
    drain(services)
    assert twilio_standin.store.requests == 0
    assert rows_of(services, contact)[0].status == OutboxStatus.WAITING
    client = create_app(services.config).test_client()
    assert post_signed(client, inbound_form("HELP", phone=PHONE, channel="whatsapp")).status_code == 200
    drain(services)
    bodies = twilio_standin.bodies_to("whatsapp:" + PHONE)
    assert len(bodies) == 2 and bodies[0].startswith("Tumaini shares tips") and bodies[1].startswith("Day 1:")


def test_a_held_message_whose_own_window_closes_is_skipped(make_services, twilio_standin):
    services = make_services()
    contact = _enrolled(services, last_inbound_at=utcnow() - hours(30))
    tick(services)
    drain(services)
    set_due(services, contact, utcnow() + hours(20))  # keep the next step out of the way
    tick(services, now=utcnow() + hours(5))  # past the four hours a step may run late
    [row] = rows_of(services, contact)
    assert row.status == OutboxStatus.SKIPPED and row.error == "missed its window"
    assert twilio_standin.store.requests == 0
