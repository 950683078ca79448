"""What building the crisis gate costs a worker: CPU seconds, memory and automaton size.

Every worker process builds the gate once, lexicon only, before its first message:
it reads every crisis lexicon (``load_lexicons``) and compiles all their patterns into
the matcher's automaton (``SafetyGate(lexicons)``, which builds one matcher over every
lexicon and one over English alone for translated text). Each run below is a fresh
process that imports the gate's modules first, so only the build itself is measured:
CPU seconds for each step, resident memory kept once the gate is built (RSS after minus
RSS before, after a garbage collection), the peak resident memory the build reached
above that same starting point, and the number of automaton nodes of the two matchers.

    .venv/bin/python -m bench.safety_build [--rounds 3] [--against /path/to/other/checkout] [--json]

``--against`` measures another checkout of the project (say main, before a change to
the matcher) in the same run, the same way, and prints this checkout's figures as a
ratio of that one's. The lowest CPU time and memory of the rounds are reported: on a
shared machine the other figures are the same build slowed down by its neighbours.

Target: the gate builds in under 5 CPU seconds and keeps under 100 MB per process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench.common import report

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
from bot.safety.gate import SafetyGate
from bot.safety.lexicon import load_lexicons

def rss(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

content = sys.argv[1] + "/content/library"
gc.collect()
before = rss("VmRSS")
start = time.process_time()
lexicons = load_lexicons(content)
loaded = time.process_time()
gate = SafetyGate(lexicons)
built = time.process_time()
gc.collect()
print(json.dumps({
    "load_s": loaded - start,
    "compile_s": built - loaded,
    "cpu_s": built - start,
    "rss_mb": rss("VmRSS") - before,
    "peak_mb": rss("VmHWM") - before,
    "nodes": gate.matcher.automaton.size + (gate._english.automaton.size if gate._english else 0),
}))
"""

FIGURES = (
    ("nodes", "automaton nodes (all lexicons + English)", ""),
    ("load_s", "read and parse lexicons (CPU s)", ""),
    ("compile_s", "compile the matchers (CPU s)", ""),
    ("cpu_s", "build the gate (CPU s)", "< 5"),
    ("rss_mb", "memory kept by the gate (MB RSS)", "< 100"),
    ("peak_mb", "peak memory while building (MB RSS)", ""),
)


def _measure(checkout: Path, rounds: int) -> dict[str, float]:
    runs = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", CHILD, str(checkout)], check=True,
                             capture_output=True, text=True, cwd=checkout).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {key: min(run[key] for run in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to measure the same way, for ratios")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    here = _measure(ROOT, args.rounds)
    rows: list[tuple[str, object, str]] = [(label, here[key], target) for key, label, target in FIGURES]
    extra: dict[str, object] = {"rounds": args.rounds}
    if args.against:
        other = _measure(args.against.resolve(), args.rounds)
        rows += [(f"{label}, {args.against}", other[key], "") for key, label, _ in FIGURES]
        rows += [(f"{key}: {args.against} / this checkout", other[key] / here[key], "") for key, _, _ in FIGURES]
        extra["against"] = str(args.against)
    report("Building the crisis gate, lexicon only, in a fresh process", rows, extra, as_json=args.json)
    return 0 if here["cpu_s"] < 5 and here["rss_mb"] < 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
