"""Language ID cost per inbound message, as the worker pays it.

Times ``detect()`` on every text of the shipped eval set (translation/data/langid_eval.csv):
unrestricted, restricted to a deployment's served locales, and the worker's whole per-message
step (``workers.language.identify``: detection, the script check and the translation decision).
The first call loads py3langid's model (about 0.3 s, once per worker process); it is timed
apart and left out of the percentiles.

    .venv/bin/python bench/langid.py [--served en,sw,es,fr] [--rounds 5] [--json]

Target: identify() p95 <= 5 ms per message (a few ms at most on top of a turn).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import percentile, report  # noqa: E402
from translation.langid import detect  # noqa: E402
from translation.langid_eval import DEFAULT_EVAL_FILE, evaluate, read_eval_csv  # noqa: E402
from workers.language import identify  # noqa: E402


def _timed(call: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            call(text)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--served", default="en,sw,es,fr", help="the deployment's locales (comma-separated)")
    parser.add_argument("--stored", default="sw", help="the person's stored locale for identify()")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    served = [code.strip() for code in args.served.split(",") if code.strip()]
    rows = read_eval_csv(DEFAULT_EVAL_FILE)
    texts = [row.text for row in rows]

    start = time.perf_counter()
    detect(texts[0])
    first_ms = (time.perf_counter() - start) * 1000

    cases = {
        "detect()": lambda text: detect(text),
        "detect(served)": lambda text: detect(text, served),
        "identify()": lambda text: identify(text, args.stored, served, 0.6, lambda lang: True),
    }
    figures: list[tuple[str, object, str]] = [("first call incl. model load ms", round(first_ms, 1), "")]
    for name, call in cases.items():
        samples = _timed(call, texts, args.rounds)
        figures += [
            (f"{name} mean ms", round(statistics.mean(samples), 3), ""),
            (f"{name} p50 ms", round(percentile(samples, 50), 3), ""),
            (f"{name} p95 ms", round(percentile(samples, 95), 3), "<= 5" if name == "identify()" else ""),
            (f"{name} max ms", round(max(samples), 3), ""),
        ]
    restricted = evaluate([r for r in rows if r.lang in served], detector=lambda text: detect(text, served))
    figures += [
        ("texts", len(texts), ""),
        ("calls per case", len(texts) * args.rounds, ""),
        ("accuracy, served languages, detect(served)", round(restricted.overall, 4), ""),
    ]
    report("Language ID per inbound message", figures, {"served": served}, as_json=args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
