"""One sender flooding the service: a limit on their work, one kind answer, and never a delay for a crisis."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rq import Queue
from sqlalchemy import func, select

from bot import create_app
from bot.services import Services
from core.queue import SEND, SERIALIZER
from core.tables import Escalation, InboundMessage, InboundStatus, OutboxMessage, OutboxStatus
from tests.conftest import drain, inbound_form, post_signed
from workers import runtime

FLOODER, OTHER = "+254700000555", "+254700000556"
LIMIT = 4


@pytest.fixture()
def world(config, starter_content):
    cfg = replace(config, INBOUND_PER_MINUTE=LIMIT)
    app = create_app(cfg)
    services = Services(cfg)
    services.__dict__["library"] = starter_content
    runtime.install(services)
    yield app.test_client(), services
    services.close()
    app.extensions["tumaini.services"].close()


def _post(client, text, phone):
    assert post_signed(client, inbound_form(text, phone=phone)).status_code == 200


def _replies(services, phone):
    with services.db.session() as session:
        ids = session.scalars(
            select(InboundMessage.id).where(InboundMessage.from_hash == services.pseudonymise(phone))
        ).all()
        return session.scalars(
            select(OutboxMessage.content_ref).where(OutboxMessage.inbound_id.in_(ids)).order_by(OutboxMessage.id)
        ).all()


def test_a_flooding_sender_is_answered_once_and_a_crisis_still_gets_through(world, twilio_standin):
    client, services = world
    for text in ["hello", "YES"] + [f"tell me something {n}" for n in range(10)]:
        _post(client, text, FLOODER)
    _post(client, "hello", OTHER)
    drain(services)
    refs = _replies(services, FLOODER)
    slow = [r for r in refs if r and r.startswith("fallback.slow_down")]
    assert len(slow) == 1, refs  # told once, not once per message
    # Past the limit, nothing but that one answer: at most LIMIT messages got full turns.
    with services.db.session() as session:
        statuses = session.scalars(select(InboundMessage.status)).all()
    assert set(statuses) == {InboundStatus.DONE}, "every message was read, none was lost"
    assert len(_replies(services, OTHER)) >= 1, "another person is not limited"

    # Still over the limit: a message in crisis gets the crisis reply and a case at once.
    _post(client, "I want to kill myself tonight", FLOODER)
    drain(services)
    refs = _replies(services, FLOODER)
    assert any(r and r.startswith("crisis.") for r in refs[-3:]), refs
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1
    # And STOP still works for a flooding sender.
    _post(client, "STOP", FLOODER)
    drain(services)
    assert any(r and r.startswith("keywords.stop") for r in _replies(services, FLOODER)[-2:])


def test_a_crisis_reply_jumps_the_send_queue(world, twilio_standin):
    client, services = world
    for n in range(3):  # people waiting for ordinary replies
        phone = f"+25470000060{n}"
        _post(client, "hello", phone)
    _post(client, "hello", FLOODER)
    drain(services)
    _post(client, "YES", FLOODER)
    drain(services)
    # Ordinary replies for three people are queued, then one person writes in crisis.
    from workers.guard import GuardedWorker

    for n in range(3):
        _post(client, "YES", f"+25470000060{n}")
    _post(client, "I want to kill myself tonight", FLOODER)
    GuardedWorker(["inbound"], connection=services.redis, serializer=SERIALIZER).work(burst=True)
    queue = Queue(SEND, connection=services.redis, serializer=SERIALIZER)
    first = queue.jobs[0]
    with services.db.session() as session:
        row = session.get(OutboxMessage, first.args[0])
        assert row.kind == "crisis" and row.status == OutboxStatus.PENDING
