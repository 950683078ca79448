"""Nothing acknowledged is lost: killed workers and a restarted Redis."""

from __future__ import annotations

import os
import signal

from sqlalchemy import select

from bot.services import Services
from bot.simulator.twilio_api import Scripted
from core.outbox import body_digest, queue_next_for
from core.tables import Contact, InboundMessage, OutboxMessage, OutboxStatus
from tests.conftest import make_config, wait_for

PHONE = "+254700000077"


def _seed(services: Services, *bodies: str) -> int:
    with services.db.session() as session:
        contact = Contact(phone_hash=services.pseudonymise(PHONE), phone_enc=services.cipher.encrypt(PHONE, b"phone"),
                          channel="sms", state={})
        session.add(contact)
        session.flush()
        for body in bodies:
            session.add(OutboxMessage(contact_id=contact.id, channel="sms",
                                      body_enc=services.cipher.encrypt(body, b"body"),
                                      body_sha256=body_digest(body)))
        return contact.id


def _statuses(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def test_worker_killed_mid_send_delivers_once_after_restart(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=twilio_standin.url,
                         JOB_TIMEOUT_S=4, PROCESSING_LEASE_S=5, SWEEP_INTERVAL_S=1)
    services = Services(config)
    # Twilio accepts the first message, but only after 3 s: the worker dies while waiting.
    twilio_standin.store.script(Scripted(201, delay_s=3))
    contact = _seed(services, "one", "two")
    queue_next_for(services, contact)
    worker = spawn_worker(config, "--no-housekeeping")
    assert wait_for(lambda: twilio_standin.store.requests >= 1), "the worker never called Twilio"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert _statuses(services)[0] == OutboxStatus.SENDING

    replacement = spawn_worker(config)  # with housekeeping: the sweeper finds the stranded row
    try:
        assert wait_for(lambda: _statuses(services) == [OutboxStatus.SENT] * 2, timeout=45)
    finally:
        replacement.send_signal(signal.SIGTERM)
        replacement.wait(timeout=20)
    assert twilio_standin.bodies_to(PHONE) == ["one", "two"]  # nothing lost, nothing twice
    services.close()


def test_redis_restart_loses_the_queue_but_not_the_messages(tmp_path, database_url, private_redis, twilio_standin, spawn_worker):
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=private_redis.url,
                         TWILIO_API_BASE=twilio_standin.url, SWEEP_INTERVAL_S=1)
    services = Services(config)
    contact = _seed(services, "still here")
    queue_next_for(services, contact)
    assert services.jobs.depth()["send"] == 1
    private_redis.stop()
    private_redis.start()  # an empty Redis: the queued job is gone
    assert services.jobs.depth()["send"] == 0
    worker = spawn_worker(config)
    try:
        assert wait_for(lambda: _statuses(services) == [OutboxStatus.SENT], timeout=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert twilio_standin.bodies_to(PHONE) == ["still here"]
    services.close()


def test_worker_killed_during_a_burst_answers_every_message_exactly_once(tmp_path, database_url, redis_url,
                                                                          twilio_standin, spawn_worker):
    from bot import create_app
    from tests.conftest import inbound_form, post_signed

    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=twilio_standin.url,
                         JOB_TIMEOUT_S=4, PROCESSING_LEASE_S=5, SWEEP_INTERVAL_S=1)
    client = create_app(config).test_client()
    phones = [f"+2547000010{i:02d}" for i in range(20)]
    for phone in phones:
        assert post_signed(client, inbound_form("HELP", phone=phone)).status_code == 200
    twilio_standin.store.script(*[Scripted(201, delay_s=0.3) for _ in range(20)])  # slow Twilio
    worker = spawn_worker(config, "--no-housekeeping")
    assert wait_for(lambda: twilio_standin.store.requests >= 5), "the worker never called Twilio"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    replacement = spawn_worker(config)
    services = Services(config)
    try:
        def all_answered() -> bool:
            with services.db.session() as session:
                pending = session.scalars(select(OutboxMessage.id).where(
                    OutboxMessage.status.in_(OutboxStatus.OPEN))).all()
                done = session.scalars(select(InboundMessage.status)).all()
            return not pending and done.count("done") == 20 and len(twilio_standin.store.all()) >= 20
        assert wait_for(all_answered, timeout=60)
    finally:
        replacement.send_signal(signal.SIGTERM)
        replacement.wait(timeout=20)
    for phone in phones:
        assert len(twilio_standin.bodies_to(phone)) == 1, "each person gets their reply exactly once"
    services.close()


def test_messages_arriving_while_redis_is_down_are_answered_when_it_returns(tmp_path, database_url, private_redis,
                                                                            twilio_standin, spawn_worker):
    from bot import create_app
    from tests.conftest import inbound_form, post_signed

    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=private_redis.url,
                         TWILIO_API_BASE=twilio_standin.url, SWEEP_INTERVAL_S=1)
    client = create_app(config).test_client()
    private_redis.stop()
    for i in range(5):
        assert post_signed(client, inbound_form("HELP", phone=f"+25470000200{i}")).status_code == 200
    private_redis.start()
    worker = spawn_worker(config)
    try:
        assert wait_for(lambda: len(twilio_standin.store.all()) == 5, timeout=40)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert sorted(m.to for m in twilio_standin.store.all()) == [f"+25470000200{i}" for i in range(5)]


def test_a_message_that_keeps_crashing_is_marked_failed_not_retried_forever(client, services, twilio_standin):
    from datetime import timedelta

    from core.tables import utcnow
    from tests.conftest import drain, inbound_form, post_signed
    from workers.sweeper import sweep

    post_signed(client, inbound_form("Hi"))
    with services.db.session() as session:
        message = session.scalars(select(InboundMessage)).one()
        # As left by five workers that each died while processing it.
        message.status, message.attempts = "processing", 5
        message.claimed_at = utcnow() - timedelta(hours=1)
    services.redis.flushdb()
    sweep(services)
    drain(services)
    with services.db.session() as session:
        message = session.scalars(select(InboundMessage)).one()
        assert message.status == "failed" and "repeatedly" in message.error
    assert twilio_standin.store.requests == 0
