"""Redis and RQ: jobs are JSON and only the service's own functions run; failures keep no message text."""

from __future__ import annotations

from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from core.queue import SERIALIZER
from core.tables import InboundMessage, InboundStatus, OutboxMessage
from tests.conftest import drain, inbound_form, post_signed, wait_for
from workers.guard import GuardedWorker

SECRET = "nataka kufa leo, piga 0712345678"


def test_a_job_planted_in_redis_runs_no_code_in_a_real_worker(app, client, config, services, spawn_worker, tmp_path):
    pickled_marker, json_marker = tmp_path / "pickled-ran", tmp_path / "json-ran"
    # Anyone who reaches Redis can queue a job; RQ's default format is a pickle.
    Queue("inbound", connection=services.redis).enqueue("os.system", f"touch {pickled_marker}")
    Queue("inbound", connection=services.redis, serializer=SERIALIZER).enqueue("os.system", f"touch {json_marker}")
    spawn_worker(config)
    assert post_signed(client, inbound_form("HELP")).status_code == 200

    def answered() -> bool:
        with services.db.session() as session:
            return session.scalar(select(InboundMessage.status)) == InboundStatus.DONE

    wait_for(answered, timeout=90)  # the worker kept working after the planted jobs
    assert not pickled_marker.exists() and not json_marker.exists()


def test_unicode_digits_are_answered_not_crashed_on(app, client, services, twilio_standin):
    """Characters that str.isdigit() calls digits but int() cannot read, typed at a screening question."""
    import re

    phone = "+254700000109"

    def say(text: str) -> None:
        assert post_signed(client, inbound_form(text, phone=phone)).status_code == 200
        drain(services)

    say("hello")
    say("YES")
    menu = twilio_standin.bodies_to(phone)[-1]
    say(re.search(r"(\d+)\W+[^\n]*PHQ-9", menu).group(1))
    for text in ["𐩀", "²", "①", "1𐩀"]:
        say(text)
    with services.db.session() as session:
        statuses = session.scalars(select(InboundMessage.status)).all()
        replied_to = set(session.scalars(select(OutboxMessage.inbound_id)).all())
    assert statuses == [InboundStatus.DONE] * 7 and len(replied_to) == 7
    assert all(FailedJobRegistry(q, connection=services.redis).count == 0 for q in ("inbound", "send"))
    # "²" and "①" read as 2 and 1 (NFKD), "𐩀" and "1𐩀" are asked again: the third question is next.
    assert twilio_standin.bodies_to(phone)[-1].startswith("3/9")


class _Worker(GuardedWorker):
    allowed_jobs = GuardedWorker.allowed_jobs | {"tests.security.crashing.crash_with"}


def test_a_failed_jobs_stored_traceback_holds_no_message_text(services):
    queue = Queue("inbound", connection=services.redis, serializer=SERIALIZER)
    job = queue.enqueue("tests.security.crashing.crash_with", SECRET)
    _Worker(["inbound"], connection=services.redis, serializer=SERIALIZER).work(burst=True)
    registry = FailedJobRegistry("inbound", connection=services.redis, serializer=SERIALIZER)
    assert job.id in registry
    stored = job.latest_result().exc_string
    assert "ValueError" in stored and "crash_with" in stored
    assert "kufa" not in stored and "0712345678" not in stored
    # Nothing else in Redis quotes it either (job data holds only the arguments it was given).
    leaked = [
        key
        for key in services.redis.scan_iter()
        if b"0712345678" in (services.redis.dump(key) or b"") and job.id.encode() not in key
    ]
    assert leaked == []
