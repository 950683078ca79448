"""Delivering replies through the real twilio client to a local Twilio stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from bot.simulator.twilio_api import Scripted
from core.outbox import body_digest, queue_next_for
from core.tables import Contact, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import OUR_SMS, drain

PHONE = "+254700000042"


def _contact(services, opted_out: bool = False) -> int:
    with services.db.session() as session:
        contact = Contact(phone_hash=services.pseudonymise(PHONE), phone_enc=services.cipher.encrypt(PHONE, b"phone"),
                          channel="sms", state={}, opted_out=opted_out)
        session.add(contact)
        session.flush()
        return contact.id


def _outbox(services, contact_id: int, *bodies: str, channel: str = "sms", kind: str = "reply") -> list[int]:
    ids = []
    with services.db.session() as session:
        for body in bodies:
            row = OutboxMessage(contact_id=contact_id, channel=channel, body_enc=services.cipher.encrypt(body, b"body"),
                                body_sha256=body_digest(body), content_ref="test.item@1", kind=kind)
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def _rows(services) -> list[OutboxMessage]:
    with services.db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_replies_are_sent_in_order_through_the_twilio_api(services, twilio_standin):
    contact = _contact(services)
    _outbox(services, contact, "first", "second", "third")
    queue_next_for(services, contact)
    drain(services)
    sent = twilio_standin.store.for_address(PHONE)
    assert [m.body for m in sent] == ["first", "second", "third"]
    assert all(m.from_ == OUR_SMS for m in sent)
    assert all(m.status_callback == "https://tumaini.example.org/twilio/status" for m in sent)
    rows = _rows(services)
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 3
    assert [r.provider_sid for r in rows] == [m.sid for m in sent]


def test_whatsapp_replies_go_to_the_whatsapp_address(services, twilio_standin):
    contact = _contact(services)
    _outbox(services, contact, "habari", channel="whatsapp")
    queue_next_for(services, contact)
    drain(services)
    [message] = twilio_standin.store.all()
    assert message.to == "whatsapp:" + PHONE and message.from_ == "whatsapp:" + OUR_SMS


def test_server_errors_are_retried_and_the_reply_is_delivered_exactly_once(services, twilio_standin):
    twilio_standin.store.script(Scripted(500, 20500), Scripted(503, None), Scripted(429, 20429))
    contact = _contact(services)
    [row_id] = _outbox(services, contact, "hello")
    queue_next_for(services, contact)
    drain(services)
    assert twilio_standin.bodies_to(PHONE) == ["hello"]
    [row] = _rows(services)
    assert row.status == OutboxStatus.SENT and row.attempts == 4


def test_a_permanent_4xx_fails_once_visibly_and_is_not_retried(services, twilio_standin):
    twilio_standin.store.script(Scripted(400, 21211, "Invalid 'To' Phone Number"))
    contact = _contact(services)
    _outbox(services, contact, "hello", "next one still goes")
    queue_next_for(services, contact)
    drain(services)
    first, second = _rows(services)
    assert first.status == OutboxStatus.FAILED and first.error_code == 21211 and first.attempts == 1
    assert second.status == OutboxStatus.SENT
    assert twilio_standin.store.requests == 2
    failed = FailedJobRegistry("send", connection=services.redis)
    assert failed.count == 1  # visible to operators, with its reason


def test_unsubscribed_recipient_21610_opts_the_contact_out_and_stops_all_sending(services, twilio_standin):
    twilio_standin.store.script(Scripted(400, 21610, "Attempt to send to unsubscribed recipient"))
    contact = _contact(services)
    _outbox(services, contact, "one", "two", "three")
    queue_next_for(services, contact)
    drain(services)
    rows = _rows(services)
    assert rows[0].status == OutboxStatus.FAILED and rows[0].error_code == 21610
    assert [r.status for r in rows[1:]] == [OutboxStatus.SUPPRESSED] * 2
    assert twilio_standin.store.requests == 1
    with services.db.session() as session:
        assert session.get(Contact, contact).opted_out


def test_nothing_is_sent_to_an_opted_out_contact_at_send_time(services, twilio_standin):
    contact = _contact(services, opted_out=True)
    _outbox(services, contact, "scheduled tip")
    queue_next_for(services, contact)
    drain(services)
    assert twilio_standin.store.requests == 0
    assert _rows(services)[0].status == OutboxStatus.SUPPRESSED


def test_the_opt_out_confirmation_itself_is_still_sent(services, twilio_standin):
    contact = _contact(services, opted_out=True)
    _outbox(services, contact, "You will get no more messages. Reply START to rejoin.", kind="optout_confirmation")
    queue_next_for(services, contact)
    drain(services)
    assert len(twilio_standin.store.all()) == 1


def test_a_second_job_for_a_sent_row_sends_nothing(services, twilio_standin):
    contact = _contact(services)
    [row_id] = _outbox(services, contact, "only once")
    queue_next_for(services, contact)
    drain(services)
    services.jobs.enqueue_send(row_id, attempt=99)
    drain(services)
    assert twilio_standin.bodies_to(PHONE) == ["only once"]


@pytest.mark.parametrize("already_accepted", [True, False])
def test_an_interrupted_send_is_reconciled_before_any_resend(services, twilio_standin, already_accepted):
    """A worker killed between Twilio's answer and our commit leaves the row in "sending"."""
    contact = _contact(services)
    [row_id] = _outbox(services, contact, "are you there?")
    if already_accepted:
        services.channel.send("sms", PHONE, "are you there?")
    with services.db.session() as session:
        row = session.get(OutboxMessage, row_id)
        row.status, row.sending_at, row.attempts = OutboxStatus.SENDING, utcnow() - timedelta(minutes=5), 1
    queue_next_for(services, contact, stale_after_s=0)
    drain(services)
    assert twilio_standin.bodies_to(PHONE) == ["are you there?"]
    [row] = _rows(services)
    assert row.status == OutboxStatus.SENT
    assert row.provider_sid == twilio_standin.store.all()[0].sid


def test_twilio_unreachable_is_retried_then_given_up_visibly(tmp_path, database_url, redis_url):
    from bot.services import Services
    from tests.conftest import make_config
    from workers import runtime

    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                         TWILIO_API_BASE="http://127.0.0.1:1", SEND_MAX_ATTEMPTS=3)
    services = Services(config)
    runtime.install(services)
    contact = _contact(services)
    _outbox(services, contact, "hello")
    queue_next_for(services, contact)
    drain(services)
    [row] = _rows(services)
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert "gave up" in row.error
    services.close()
