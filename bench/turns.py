"""Time inside the worker for keyword and menu turns (no model involved).

Stores real inbound messages in PostgreSQL and runs the worker's processing
(claim, safety gate, conversation engine, outbox write, send queued) in this
process, timing each message from claim to commit.

    .venv/bin/python bench/turns.py [--people 200] [--json] [--embeddings]

Target: keyword and menu turns p95 <= 50 ms inside the worker.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import percentile, postgres_database, report  # noqa: E402
from bot.channels.base import InboundForm  # noqa: E402
from bot.ingest import ingest  # noqa: E402
from bot.services import Services  # noqa: E402
from core.config import Config  # noqa: E402
from core.crypto import new_key  # noqa: E402
from workers import runtime  # noqa: E402
from workers.inbound import process  # noqa: E402

SCRIPT = ["Hi", "YES", "2", "next", "next", "MENU", "HELP", "3", "back", "STOP"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--embeddings", action="store_true", help="include the safety gate's embedding layer")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with postgres_database() as url:
        config = Config.from_env({}, DATABASE_URL=url, REDIS_URL=args.redis_url, ENCRYPTION_KEYS=(new_key(),),
                                 SAFETY_EMBEDDINGS=args.embeddings, LOG_LEVEL="WARNING")
        services = Services(config)
        services.redis.flushdb()
        runtime.install(services)
        engine, gate = runtime.engine(), runtime.safety_gate()
        timings: dict[str, list[float]] = {}
        for person in range(args.people):
            phone = f"+2547{person:08d}"
            for text in SCRIPT:
                form = InboundForm(message_sid="SM" + secrets.token_hex(16), channel="sms", from_number=phone,
                                   to_address="+15550001000", body=text, num_media=0)
                message_id = ingest(services, form).message_id
                start = time.perf_counter()
                process(services, message_id, engine, gate)
                timings.setdefault(text, []).append((time.perf_counter() - start) * 1000)
        services.redis.flushdb()
        services.close()
    every = [t for values in timings.values() for t in values]
    rows = [("turns", len(every), ""), ("all turns p50 ms", percentile(every, 50), ""),
            ("all turns p95 ms", percentile(every, 95), "<= 50")]
    rows += [(f"'{text}' p95 ms", percentile(values, 95), "") for text, values in timings.items()]
    report("Keyword and menu turns inside the worker (PostgreSQL)", rows,
           extra={"embeddings": args.embeddings}, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
