"""Faults while a course step is being delivered: what was tried, and what was lost.

Each scenario runs on a fresh PostgreSQL database, a private redis-server, the
local Twilio stand-in and real ``python -m workers`` processes, kept alive the
way systemd keeps them (a worker that dies is started again after a second):

  kill -9       a worker is killed while Twilio holds its request open
  redis         Redis restarts empty while 200 messages are queued
  postgres      PostgreSQL is unreachable for 10 s (connections cut, new ones refused, by a TCP proxy)
  twilio        Twilio answers 429 and 500 in bursts
  opt-out       half the people text STOP while their course message is queued
  quiet         people whose step was missed overnight, and people whose zone turns to night after queueing
  race          four processes run the scheduler tick at the same moment, on the same due steps

For each it counts: messages due, delivered, lost (due, never delivered), people
messaged twice, messages claimed after the person opted out, and messages that
reached a person during their quiet hours. Targets: all four are 0.

    .venv/bin/python bench/faults.py [--only redis,postgres] [--people 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select, update  # noqa: E402

from bench.common import command_line, machine, postgres_database  # noqa: E402
from bench.drain import TOKEN, Stack, zone_at_local_hour  # noqa: E402
from bot.simulator.twilio_api import Scripted  # noqa: E402
from core.crypto import Pseudonymiser  # noqa: E402
from core.tables import Contact, OutboxMessage  # noqa: E402
from core.timezones import QuietHours  # noqa: E402

COURSE_TEXT = "Day 1:"
FAST_RECOVERY = dict(LOG_LEVEL="INFO", JOB_TIMEOUT_S=8, PROCESSING_LEASE_S=10, SWEEP_INTERVAL_S=2, SWEEP_GRACE_S=2,
                     SCHEDULE_TICK_S=2, SEND_BACKOFF_S="1,2,4", SEND_MAX_ATTEMPTS=8)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class Supervisor(threading.Thread):
    """Keeps N workers running, restarting one that dies (as systemd's Restart=always does)."""

    def __init__(self, stack: Stack, count: int, database_url: str | None = None):
        super().__init__(daemon=True)
        self.stack, self.count, self.database_url = stack, count, database_url
        self.stopping = threading.Event()
        self.restarts = 0
        self.live = [stack.start_worker(database_url) for _ in range(count)]

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            for i, worker in enumerate(self.live):
                if worker.poll() is not None:
                    self.live[i] = self.stack.start_worker(self.database_url)
                    self.restarts += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that can cut every connection and refuse new ones."""

    def __init__(self, target_port: int = 5432):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.blocked = threading.Event()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            if self.blocked.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the other direction was cut: this one ends with it
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def cut(self, seconds: float) -> None:
        self.blocked.set()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, upstream in pairs:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by its pump
        time.sleep(seconds)
        self.blocked.clear()


# -- counting ------------------------------------------------------------------------
def tally(stack: Stack, due_phones: list[str], quiet: QuietHours) -> dict[str, int]:
    """What the stand-in received, against who was owed a message."""
    course = [(t, to) for t, to, body in stack.store.snapshot() if body.startswith(COURSE_TEXT)]
    per_person = Counter(to for _, to in course)
    pseudonymise = Pseudonymiser(stack.hmac_key)
    with stack.engine.connect() as conn:
        contacts = {row.phone_hash: row for row in conn.execute(
            select(Contact.id, Contact.phone_hash, Contact.time_zone, Contact.opted_out_at))}
        claimed_after_optout = conn.execute(
            select(OutboxMessage.id).join(Contact, Contact.id == OutboxMessage.contact_id)
            .where(OutboxMessage.kind == "course", Contact.opted_out_at.is_not(None),
                   OutboxMessage.sending_at > Contact.opted_out_at)).all()
    in_quiet = 0
    for arrived, to in course:
        contact = contacts[pseudonymise(to)]
        local = datetime.fromtimestamp(arrived, UTC).astimezone(ZoneInfo(contact.time_zone))
        in_quiet += quiet.contains(local.hour * 60 + local.minute)
    return {"due": len(due_phones), "delivered": sum(1 for p in due_phones if per_person[p]),
            "lost": sum(1 for p in due_phones if not per_person[p]),
            "duplicates": sum(1 for c in per_person.values() if c > 1),
            "to_opted_out": len(claimed_after_optout), "in_quiet_hours": in_quiet}


def events(stack: Stack, name: str) -> int:
    """How many times the workers logged an event (their logs are JSON lines)."""
    needle = f'"event": "{name}"'
    return sum(log.read_text(errors="replace").count(needle) for log in stack.workdir.glob("worker-*.log"))


def delivered(stack: Stack, phones: list[str]) -> Callable[[], bool]:
    """Everyone owed a message got it, and no row is still open (one left "sending" by a killed
    worker must be settled too: reconciled, not sent again)."""
    wanted = set(phones)

    def done() -> bool:
        if not wanted <= {to for _, to, body in stack.store.snapshot() if body.startswith(COURSE_TEXT)}:
            return False
        with stack.engine.connect() as conn:
            return not conn.execute(select(OutboxMessage.id).where(
                OutboxMessage.status.in_(("pending", "sending"))).limit(1)).first()
    return done


def now() -> datetime:
    return datetime.now(UTC)


# -- scenarios -----------------------------------------------------------------------
def kill9(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    slow = [Scripted(201, delay_s=0.02)] * 59 + [Scripted(201, delay_s=3.0)] + [Scripted(201, delay_s=0.02)] * 400
    stack.store.script(*slow)
    stack.seed(phones, zone_at_local_hour(12), now())
    supervisor = Supervisor(stack, 1)
    supervisor.start()
    wait_until(lambda: stack.store.requests >= 60, 120)
    os.kill(supervisor.live[0].pid, 9)  # Twilio is holding request 60 open: the worker dies mid-send
    wait_until(delivered(stack, phones), 180)
    supervisor.stop()
    return phones, (f"killed 1 worker mid-send; restarted {supervisor.restarts}; "
                    f"{events(stack, 'send.reconciled')} send reconciled with Twilio's list instead of resent")


def redis_restart(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    stack.settings["SENDER_RATE_PER_S"] = 20
    stack.seed(phones, zone_at_local_hour(12), now())
    supervisor = Supervisor(stack, 2)
    supervisor.start()
    wait_until(lambda: len(stack.store.snapshot()) >= 10, 120)
    with stack.engine.connect() as conn:
        in_flight = len(conn.execute(select(OutboxMessage.id).where(OutboxMessage.status.in_(
            ("pending", "sending")))).all())
    stack.stop_redis()
    stack.start_redis()  # empty: every queued job is gone
    wait_until(delivered(stack, phones), 240)
    supervisor.stop()
    return phones, (f"Redis restarted empty with {in_flight} unsent; workers restarted {supervisor.restarts}; "
                    f"{events(stack, 'sweep.requeued')} sweeps re-queued rows")


def postgres_outage(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    proxy = TcpProxy()
    proxied = stack.database_url.replace(":5432/", f":{proxy.port}/")
    stack.settings["SENDER_RATE_PER_S"] = 20
    stack.seed(phones, zone_at_local_hour(12), now())
    supervisor = Supervisor(stack, 2, proxied)
    supervisor.start()
    wait_until(lambda: len(stack.store.snapshot()) >= 40, 120)
    proxy.cut(10.0)
    wait_until(delivered(stack, phones), 240)
    supervisor.stop()
    return phones, (f"PostgreSQL cut for 10 s mid-drain; workers restarted {supervisor.restarts}; "
                    f"{events(stack, 'send.reconciled')} reconciled, "
                    f"{events(stack, 'sweep.requeued')} sweeps re-queued")


def twilio_bursts(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    burst: list[Scripted] = []
    for _ in range(4):
        burst += [Scripted(429, 20429, "Too Many Requests")] * 15 + [Scripted(201)] * 20
        burst += [Scripted(500, 20500, "Internal Server Error")] * 15 + [Scripted(201)] * 20
    stack.store.script(*burst)
    stack.settings["SENDER_RATE_PER_S"] = 50
    stack.seed(phones, zone_at_local_hour(12), now())
    supervisor = Supervisor(stack, 2)
    supervisor.start()
    wait_until(delivered(stack, phones), 240)
    supervisor.stop()
    return phones, f"{sum(1 for s in burst if s.status >= 400)} error answers (429, 500) in bursts of 15"


def opt_out(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    import uuid

    from twilio.request_validator import RequestValidator

    from bot import create_app
    from core.config import Config

    stack.settings["SENDER_RATE_PER_S"] = 15
    stack.seed(phones, zone_at_local_hour(12), now())
    supervisor = Supervisor(stack, 2)
    supervisor.start()
    wait_until(lambda: len(stack.store.snapshot()) >= 20, 120)
    app = create_app(Config.from_env(stack.env()))
    client = app.test_client()
    leaving = phones[1::2]
    validator = RequestValidator(TOKEN)
    for phone in leaving:
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "b" * 32, "From": phone,
                "To": "+15550002000", "Body": "STOP", "NumMedia": "0"}
        signature = validator.compute_signature("https://bench.tumaini.example/twilio/messages", form)
        assert client.post("/twilio/messages", data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    staying = phones[0::2]
    wait_until(delivered(stack, staying), 240)
    time.sleep(3)
    supervisor.stop()
    app.extensions["tumaini.services"].close()
    got = {to for _, to, body in stack.store.snapshot() if body.startswith(COURSE_TEXT)}
    before = sum(1 for p in leaving if p in got)
    with stack.engine.connect() as conn:
        suppressed = len(conn.execute(select(OutboxMessage.id).where(OutboxMessage.kind == "course",
                                                                     OutboxMessage.status == "suppressed")).all())
    return staying, (f"{len(leaving)} people sent STOP while their message was queued: {suppressed} suppressed, "
                     f"{before} had already been sent theirs")


def quiet_hours(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    from bot.services import Services
    from core.config import Config
    from workers.scheduling import tick

    third = len(phones) // 3
    night, day, turned = phones[:third], phones[third:2 * third], phones[2 * third:]
    stack.seed(night, zone_at_local_hour(2), now() - timedelta(hours=18))  # due yesterday 09:00; workers were down
    stack.seed(day + turned, zone_at_local_hour(12), now())
    services = Services(Config.from_env(stack.env()))
    tick(services)  # written and queued while it is midday for all of "day" and "turned"...
    services.close()
    pseudonymise = Pseudonymiser(stack.hmac_key)
    with stack.engine.begin() as conn:  # ...then "turned" move to a zone where it is 02:00
        conn.execute(update(Contact).where(Contact.phone_hash.in_([pseudonymise(p) for p in turned]))
                     .values(time_zone=zone_at_local_hour(2)))
    supervisor = Supervisor(stack, 2)
    supervisor.start()
    wait_until(delivered(stack, day), 180)
    time.sleep(3)
    supervisor.stop()
    return day, f"{len(night)} missed overnight, {len(turned)} whose clock turned to 02:00 after queueing"


def _tick_in_process(env: dict[str, str], start_at: float) -> int:
    from bot.services import Services
    from core.config import Config
    from workers.scheduling import tick

    services = Services(Config.from_env(env))
    services.library.locales()  # load the library before the start line, so the ticks really overlap
    time.sleep(max(0.0, start_at - time.time()))
    report = tick(services)
    services.close()
    return report.created


def race(stack: Stack, phones: list[str]) -> tuple[list[str], str]:
    stack.settings["SENDER_RATE_PER_S"] = 100
    phones = [f"+2547{i:08d}" for i in range(max(len(phones), 1500))]  # several batches: the ticks share them
    stack.seed(phones, zone_at_local_hour(12), now())
    start_at = time.time() + 8
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        created = pool.starmap(_tick_in_process, [(stack.env(), start_at)] * 4)
    supervisor = Supervisor(stack, 2)
    supervisor.start()
    wait_until(delivered(stack, phones), 600)
    time.sleep(3)
    supervisor.stop()
    split = " + ".join(map(str, created))
    return phones, f"4 ticks at once on {len(phones)} due steps wrote {sum(created)} rows ({split})"


SCENARIOS: dict[str, tuple[str, Callable[[Stack, list[str]], tuple[list[str], str]]]] = {
    "kill9": ("kill -9 a worker mid-send", kill9),
    "redis": ("restart Redis with messages in flight", redis_restart),
    "postgres": ("PostgreSQL unreachable for 10 s", postgres_outage),
    "twilio": ("Twilio 429 / 500 in bursts", twilio_bursts),
    "optout": ("STOP while the course step is queued", opt_out),
    "quiet": ("quiet hours: missed overnight, zone turned", quiet_hours),
    "race": ("four schedulers race for the same steps", race),
}


def run(name: str, people: int) -> dict[str, Any]:
    title, scenario = SCENARIOS[name]
    phones = [f"+2547{i:08d}" for i in range(people)]
    with postgres_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        stack = Stack(database_url, Path(tmp), SENDER_RATE_PER_S=100, **FAST_RECOVERY)
        stack.start()
        started = time.monotonic()
        try:
            due, tried = scenario(stack, phones)
            counts = tally(stack, due, QuietHours())
        finally:
            stack.close()
    return {"fault": title, "tried": tried, **counts, "seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    results = [run(name, args.people) for name in args.only.split(",") if name]
    if args.json:
        print(json.dumps({"machine": machine(), "command": command_line(), "results": results}, indent=2))
    else:
        print(f"\nFaults during course delivery ({args.people} people each)\n  machine: {machine()}\n"
              f"  command: {command_line()}")
        header = ("fault", "due", "delivered", "lost", "twice", "opted-out", "quiet", "s")
        print("  " + f"{header[0]:<44}" + "".join(f"{h:>10}" for h in header[1:]))
        for r in results:
            print("  " + f"{r['fault']:<44}" + "".join(f"{r[k]:>10}" for k in (
                "due", "delivered", "lost", "duplicates", "to_opted_out", "in_quiet_hours", "seconds")))
            print(f"    tried: {r['tried']}")
        print("  targets: lost 0, twice 0, opted-out 0, quiet 0")
    bad = sum(r["lost"] + r["duplicates"] + r["to_opted_out"] + r["in_quiet_hours"] for r in results)
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
