"""Scale-out: two web processes and three workers answer every message exactly once.

The processes are the real ones (gunicorn serving ``bot:create_app()``,
``python -m workers``), sharing one Redis and one PostgreSQL database as
separate machines would. A thousand signed webhooks from 200 people arrive
through both web processes; every person must receive exactly the replies a
single in-process run gives for the same messages, in order, once each.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

import pytest
from rq import Worker
from sqlalchemy import select

from bot import create_app, migrate
from bot.services import Services
from core.tables import Contact, InboundMessage, OutboxMessage, OutboxStatus
from tests.conftest import config_env, drain, inbound_form, make_config, post_signed, sign
from tests.deploy.deploy_support import ROOT, free_port, start_gunicorn, stop, wait_until_answers

PEOPLE = 200
SCRIPT = ["Hi", "HELP", "Hi", "HELP", "Hi"]  # what each person sends, in order
WEB_PROCESSES = 2
WORKER_PROCESSES = 3
DEADLINE_S = 360  # after the last webhook; a stuck run fails here, a slow machine does not


def _phone(i: int) -> str:
    return f"+2547{i:08d}"


def _reference_replies(tmp_path: Path, redis_url: str, standin) -> list[str]:
    """What one person receives for SCRIPT from a single in-process worker."""
    from workers import runtime

    database = f"sqlite:///{tmp_path / 'reference.db'}"
    migrate.upgrade(database)
    config = make_config(tmp_path / "reference", DATABASE_URL=database, REDIS_URL=redis_url,
                         TWILIO_API_BASE=standin.url)
    client = create_app(config).test_client()
    phone = "+255799999999"
    for body in SCRIPT:
        assert post_signed(client, inbound_form(body, phone=phone)).status_code == 200
    services = Services(config)
    runtime.install(services)
    try:
        drain(services)
        services.redis.flushdb()
    finally:
        services.close()
    replies = standin.bodies_to(phone)
    standin.store.reset()
    return replies


def _push(ports: list[int], results: Counter, errors: list[str], people: range) -> None:
    """One load thread: its people's messages in order, alternating between the web processes."""
    conns = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in ports}
    try:
        for turn, body in enumerate(SCRIPT):
            for i in people:
                port = ports[(i + turn) % len(ports)]
                form = inbound_form(body, phone=_phone(i))
                headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(form)}
                for attempt in range(3):  # as Twilio would, on a connection error
                    try:
                        conns[port].request("POST", "/twilio/messages", body=urlencode(form), headers=headers)
                        response = conns[port].getresponse()
                        response.read()
                        results[(port, response.status)] += 1
                        break
                    except (OSError, http.client.HTTPException) as exc:
                        conns[port].close()
                        conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                        if attempt == 2:
                            errors.append(type(exc).__name__)
    finally:
        for conn in conns.values():
            conn.close()


def _progress(services: Services) -> tuple[int, int]:
    with services.db.session() as session:
        done = session.scalars(select(InboundMessage.status)).all()
        open_rows = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status.in_(OutboxStatus.OPEN))).all()
    return sum(1 for s in done if s == "done"), len(open_rows)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_web_and_three_worker_processes_answer_every_message_exactly_once(
        tmp_path, make_postgres_database, private_redis, twilio_standin):
    reference = _reference_replies(tmp_path, private_redis.url, twilio_standin)
    assert reference, "the script must draw at least one reply"

    database = make_postgres_database()
    config = make_config(tmp_path, DATABASE_URL=database, REDIS_URL=private_redis.url,
                         TWILIO_API_BASE=twilio_standin.url, SWEEP_INTERVAL_S=5, SWEEP_GRACE_S=30, LOG_LEVEL="WARNING")
    env = config_env(config)
    ports = [free_port() for _ in range(WEB_PROCESSES)]
    webs = [start_gunicorn(env, port, workers=1, threads=4, log=tmp_path / f"web-{port}.log") for port in ports]
    workers = [subprocess.Popen([sys.executable, "-m", "workers"], env=env, cwd=str(ROOT),
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker-{n}.log", "wb"))
               for n in range(WORKER_PROCESSES)]
    services = Services(config)
    try:
        for web, port in zip(webs, ports, strict=True):
            wait_until_answers(f"http://127.0.0.1:{port}/healthz", process=web)
        results: Counter = Counter()
        errors: list[str] = []
        threads = [threading.Thread(target=_push, args=(ports, results, errors, range(t, PEOPLE, 20)))
                   for t in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, f"webhooks failed: {Counter(errors)}"
        total = PEOPLE * len(SCRIPT)
        for port in ports:
            assert results[(port, 200)] == total // WEB_PROCESSES, results

        expected = PEOPLE * len(reference)
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            done, still_open = _progress(services)
            if done == total and not still_open and len(twilio_standin.store.all()) >= expected:
                break
            for process in workers:
                assert process.poll() is None, "a worker died; see its log in " + str(tmp_path)
            time.sleep(0.5)
        done, still_open = _progress(services)
        assert done == total and not still_open, f"{done}/{total} handled, {still_open} replies unsent"
        time.sleep(2)  # anything sent twice would arrive now

        worker_jobs = {w.name: w.successful_job_count for w in Worker.all(connection=services.redis)}
    finally:
        for process in [*workers, *webs]:
            stop(process, timeout=30)

    received = twilio_standin.store.all()
    assert len(received) == expected, f"Twilio received {len(received)} messages, expected {expected}"
    with services.db.session() as session:
        rows = {row.provider_sid: row for row in session.scalars(select(OutboxMessage))}
        phones = {c.id: services.cipher.decrypt(c.phone_enc, b"phone") for c in session.scalars(select(Contact))}
        inbound_done = session.scalars(select(InboundMessage.id).where(InboundMessage.status == "done")).all()
    services.close()

    # One provider message per outbox row, each to the right person with the right text.
    assert len(rows) == expected and all(r.status == OutboxStatus.SENT for r in rows.values())
    keys = []
    for message in received:
        row = rows[message.sid]
        assert message.to == phones[row.contact_id]
        keys.append((message.to, message.body, row.inbound_id))
    assert len(set(keys)) == len(keys), "a reply was sent twice"
    assert {row.inbound_id for row in rows.values()} == set(inbound_done), "every message got its replies"

    # Each person got exactly the reference conversation, in order.
    by_person: dict[str, list[str]] = defaultdict(list)
    for message in received:
        by_person[message.to].append(message.body)
    assert len(by_person) == PEOPLE
    wrong = [phone for phone, bodies in by_person.items() if bodies != reference]
    assert not wrong, f"{len(wrong)} people got a different conversation, e.g. {by_person[wrong[0]]}"

    # The work really was shared between the worker processes.
    assert len(worker_jobs) == WORKER_PROCESSES and all(count > 0 for count in worker_jobs.values()), worker_jobs
