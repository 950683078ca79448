"""Webhook acknowledgement latency and throughput on the real stack.

Starts gunicorn serving ``bot:create_app()`` against PostgreSQL and Redis, then
posts signed Twilio webhooks (unique MessageSids) at a fixed concurrency and
measures how long each acknowledgement takes. Afterwards it checks that every
acknowledged message was stored and queued.

    .venv/bin/python bench/webhook.py [--requests 6000] [--concurrency 16] [--json]

Targets (2-core machine): p99 <= 100 ms and >= 300 requests/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.common import ROOT, free_port, percentile, postgres_database, report, tree_rss_mb, wait_http  # noqa: E402
from core.crypto import new_key  # noqa: E402
from core.tables import InboundMessage  # noqa: E402

TOKEN = "bench-token-" + uuid.uuid4().hex
PUBLIC = "https://bench.tumaini.example"


def _bodies(n: int) -> list[tuple[bytes, str]]:
    validator = RequestValidator(TOKEN)
    out = []
    for i in range(n):
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
                "From": f"+2547{i % 100000:08d}", "To": "+15550001000",
                "Body": "Nimechoka sana, siwezi kulala usiku" if i % 2 else "I feel stressed about money",
                "NumMedia": "0"}
        out.append((urlencode(form).encode(), validator.compute_signature(PUBLIC + "/twilio/messages", form)))
    return out


def _load(port: int, bodies: list[tuple[bytes, str]], concurrency: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))

    def run() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            body, signature = bodies[i]
            start = time.perf_counter()
            try:
                conn.request("POST", "/twilio/messages", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - start) * 1000)
            bad += 0 if ok else 1
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - start


def _load_wrk(port: int, bodies: list[tuple[bytes, str]], concurrency: int, seconds: int,
              workdir: str) -> tuple[dict, float]:
    """Drive the server with wrk (C, keep-alive), which leaves the CPU to the server."""
    path = os.path.join(workdir, "webhooks.tsv")
    with open(path, "w") as fh:
        for body, signature in bodies:
            fh.write(body.decode() + "\t" + signature + "\n")
    threads = 2
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", os.path.join(ROOT, "bench", "webhook_wrk.lua"), f"http://127.0.0.1:{port}", "--", path, str(threads)],
        capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    result = json.loads(line[len("WRKJSON "):])
    return result, result["duration_us"] / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--seconds", type=int, default=15, help="wrk run length")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk") is not None)
    if use_wrk:
        args.requests = max(args.requests, args.seconds * 1200)  # more unique messages than can be sent
    bodies = _bodies(args.requests + args.warmup)
    with postgres_database() as database_url:
        port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=args.redis_url, TWILIO_AUTH_TOKEN=TOKEN,
                   PUBLIC_BASE_URL=PUBLIC, ENCRYPTION_KEYS=new_key(), LOG_LEVEL="WARNING",
                   SECRET_KEY=new_key(), HMAC_KEY=new_key())
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                "--workers", str(args.web_workers), "--threads", str(args.threads),
                                "--worker-class", "gthread", "--log-level", "warning", "bot:create_app()"],
                               env=env, cwd=str(ROOT))
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            warm_latencies, warm_errors, _ = _load(port, bodies[: args.warmup], args.concurrency)
            warm_acked = len(warm_latencies) - warm_errors
            if use_wrk:
                with tempfile.TemporaryDirectory() as workdir:
                    result, elapsed = _load_wrk(port, bodies[args.warmup:], args.concurrency, args.seconds, workdir)
                # Health checks are only sent once the unique messages run out, which is refused below.
                sent, errors = result["acked"], result["non200"] + result["socket_errors"]
                p50, p99 = result["p50_us"] / 1000, result["p99_us"] / 1000
                if result["sent"] >= len(bodies) - args.warmup:
                    raise SystemExit("ran out of unique messages: raise --requests")
            else:
                latencies, errors, elapsed = _load(port, bodies[args.warmup:], args.concurrency)
                sent, p50, p99 = len(latencies), percentile(latencies, 50), percentile(latencies, 99)
            rss = tree_rss_mb(web.pid)
        finally:
            web.terminate()
            web.wait(timeout=20)
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(InboundMessage))
        engine.dispose()
    queued = redis.llen("rq:queue:inbound")
    total = sent + warm_acked
    rps = sent / elapsed
    report("Webhook acknowledgement (gunicorn + PostgreSQL + Redis)", [
        ("load generator", "wrk" if use_wrk else "python threads", ""),
        ("webhooks sent", sent, ""),
        ("concurrency", args.concurrency, ""),
        ("errors", errors, "0"),
        ("p50 ms", p50, ""),
        ("p99 ms", p99, "<= 100"),
        ("requests/s", rps, ">= 300"),
        ("warm-up errors", warm_errors, ""),
        ("acknowledged (incl. warm-up)", total, ""),
        ("stored", stored, ">= acknowledged"),
        ("queued", queued, "= stored"),
        ("web RSS MB (all workers)", rss, ""),
    ], extra={"config": {"web_workers": args.web_workers, "threads": args.threads}}, as_json=args.json)
    redis.flushdb()
    # Requests in flight when the load stopped may be stored without being counted as acknowledged.
    ok = errors == 0 and stored >= total and queued == stored
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
