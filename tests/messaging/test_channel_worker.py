"""Twilio forms courier handles and Tumaini used to lose, through the webhook and a real worker process."""

from __future__ import annotations

import base64
import signal

import pytest
from sqlalchemy import select

from bot import create_app
from bot.services import Services
from core.tables import Contact, Escalation, InboundMessage, InboundStatus
from tests.conftest import OUR_SMS, inbound_form, make_config, post_signed, wait_for

USER_ID = "KE.13491208655302741918"  # a WhatsApp user who shares no phone number


@pytest.fixture()
def running(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    config = make_config(
        tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=twilio_standin.url, SWEEP_INTERVAL_S=1
    )
    app = create_app(config)
    services = Services(config)
    worker = spawn_worker(config)
    yield app.test_client(), services, twilio_standin
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    services.close()
    app.extensions["tumaini.services"].close()


def test_a_whatsapp_user_without_a_phone_number_is_answered_on_whatsapp(running):
    client, services, standin = running
    form = inbound_form("Hi", phone=USER_ID, channel="whatsapp", ExternalUserId="whatsapp:" + USER_ID)
    assert post_signed(client, form).status_code == 200

    replies = wait_for(
        lambda: len(standin.bodies_to("whatsapp:" + USER_ID)) >= 2 and standin.bodies_to("whatsapp:" + USER_ID),
        timeout=60,
    )
    assert "automated" in replies[0]
    requests = standin.store.received_requests()
    assert {r.form["To"] for r in requests} == {"whatsapp:" + USER_ID}  # never an SMS, never a mangled number
    assert {r.form["From"] for r in requests} == {"whatsapp:" + OUR_SMS}
    with services.db.session() as session:
        contact = session.scalars(select(Contact)).one()
        message = session.scalars(select(InboundMessage)).one()
    assert contact.phone_hash == services.pseudonymise(USER_ID) == message.from_hash
    assert USER_ID.encode() not in contact.phone_enc
    assert services.cipher.decrypt(contact.phone_enc, b"phone") == USER_ID
    assert contact.channel == "whatsapp" and message.status == InboundStatus.DONE
    assert contact.region == "demo"  # the id's country (KE) settles the region that serves Kenya

    # The same person writes again: the same contact, in the conversation already begun.
    form = inbound_form("YES", phone=USER_ID, channel="whatsapp")
    assert post_signed(client, form).status_code == 200
    wait_for(lambda: len(standin.bodies_to("whatsapp:" + USER_ID)) >= 3, timeout=60)
    with services.db.session() as session:
        assert len(session.scalars(select(Contact)).all()) == 1
        assert session.scalars(select(Contact)).one().consent_version is not None


def test_a_crisis_message_delivered_base64_encoded_opens_a_case(running):
    client, services, standin = running
    phone = "+254700000911"
    text = "I have been thinking about this for weeks and I want to kill myself tonight"
    encoded = base64.b64encode(text.encode()).decode()
    assert len(encoded) >= 60 and "kill" not in encoded
    assert post_signed(client, inbound_form(encoded, phone=phone)).status_code == 200

    case = wait_for(lambda: _open_case(services), timeout=60)
    assert case.severity in ("high", "imminent")
    replies = wait_for(lambda: standin.bodies_to(phone), timeout=60)
    assert encoded not in " ".join(replies)
    with services.db.session() as session:
        message = session.scalars(select(InboundMessage)).one()
    assert services.cipher.decrypt(message.body_enc, b"body") == text  # stored as the person wrote it


def _open_case(services: Services) -> Escalation | None:
    with services.db.session() as session:
        return session.scalars(select(Escalation).where(Escalation.status == "open")).first()
