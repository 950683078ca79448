"""Run every benchmark under bench/ and write docs/PERFORMANCE.md.

Each benchmark runs in its own process (with --json when it supports it), one
after another so they do not compete for the two cores. The report has one
table per benchmark (figure, value, target, met or not), the machine, the date,
the exact commands, and a plot of end-to-end latency against offered load
(docs/performance-e2e.png). A benchmark that is missing, fails or times out is
reported as such; the others still are.

    .venv/bin/python -m bench.report [--only e2e,webhook] [--skip translation] [--timeout 1800]
        [--args e2e="--rates 2,4,8"] [--from-saved] [--out docs/PERFORMANCE.md] [--bench-dir bench]

Raw outputs are kept in bench/out/report/ (--from-saved rebuilds the report from them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SAVED = BENCH / "out" / "report"
# Benchmarks the report always lists, so a missing one is visible.
EXPECTED = ("webhook", "e2e", "turns", "translation", "dialogue", "safety", "drain", "retention")
NOT_BENCHMARKS = {"__init__", "common", "report"}
MAX_TEXT_LINES = 40


@dataclass
class Outcome:
    """What one benchmark produced."""

    name: str
    command: str = ""
    status: str = "missing"  # ok | failed | timed out | missing
    returncode: int | None = None
    seconds: float = 0.0
    data: dict[str, Any] | None = None
    text: str = ""
    error: str = ""
    when: str = ""  # UTC start time of the run
    load: float | None = None  # load average when it started (a shared machine skews figures)


def discover(bench: Path) -> list[str]:
    """Modules under bench/ that run as programs, expected ones first."""
    found = sorted(p.stem for p in bench.glob("*.py")
                   if p.stem not in NOT_BENCHMARKS and "__main__" in p.read_text(encoding="utf-8"))
    return [n for n in EXPECTED if n in found] + [n for n in found if n not in EXPECTED]


def supports_json(path: Path) -> bool:
    return '"--json"' in path.read_text(encoding="utf-8")


def parse_json(stdout: str) -> dict[str, Any] | None:
    """The benchmark's JSON object: the whole output, or the last object printed in it."""
    text = stdout.strip()
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else None
    except json.JSONDecodeError:
        pass
    starts = [m.start() for m in re.finditer(r"^\{", text, flags=re.M)]
    for start in reversed(starts):
        try:
            value = json.loads(text[start:])
            return value if isinstance(value, dict) else None
        except json.JSONDecodeError:
            continue
    return None


def run(bench: Path, name: str, extra: list[str], timeout: float) -> Outcome:
    path = bench / f"{name}.py"
    if not path.exists():
        return Outcome(name, status="missing", error=f"{_relative(path)} does not exist yet")
    json_flag = ["--json"] if supports_json(path) else []
    # As a module from the root: run as a file, bench/translation.py would shadow the
    # translation package for the benchmark's own imports.
    target = ["-m", f"bench.{name}"] if path.parent.resolve() == BENCH.resolve() else [str(path)]
    args = [sys.executable, *target, *json_flag, *extra]
    command = shlex.join([".venv/bin/python", *target, *json_flag, *extra])
    print(f"running {command}", file=sys.stderr)
    when, load = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), os.getloadavg()[0]
    started = time.monotonic()
    try:
        done = subprocess.run(args, cwd=str(ROOT), capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return Outcome(name, command, "timed out", None, time.monotonic() - started, text=partial[-4000:],
                       error=f"no result within {timeout:.0f} s", when=when, load=load)
    outcome = Outcome(name, command, "ok" if done.returncode == 0 else "failed", done.returncode,
                      time.monotonic() - started, when=when, load=load)
    outcome.data = parse_json(done.stdout) if json_flag else None
    if outcome.data is None:
        outcome.text = done.stdout
    if done.returncode != 0:
        outcome.error = "\n".join(done.stderr.strip().splitlines()[-8:])
    return outcome


def _relative(path: Path) -> str:
    """A path as the report shows it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def _met(value: Any, target: str) -> str:
    """'yes'/'no' when the target is a plain comparison with a number, else ''."""
    match = re.fullmatch(r"\s*(<=|>=|<|>|=)?\s*(-?\d+(?:\.\d+)?)\s*", str(target))
    if not match or not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        return ""
    op, bound = match.group(1) or "=", float(match.group(2))
    ok = {"<=": value <= bound, ">=": value >= bound, "<": value < bound, ">": value > bound,
          "=": value == bound}[op]
    return "yes" if ok else "no"


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        out: list[tuple[str, Any]] = []
        for key, value in data.items():
            out.extend(_flatten(value, f"{prefix}{key}" if not prefix else f"{prefix} / {key}"))
        return out
    if isinstance(data, list):
        return []  # per-run detail; the summary carries the figures
    return [(prefix, data)]


def table_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, met) from either bench.common.report's shape or any nested summary."""
    if "figures" in data:
        targets = data.get("targets", {})
        return [(name, _shown(value), str(targets.get(name, "")), _met(value, targets.get(name, "")))
                for name, value in data["figures"].items()]
    rows = []
    for name, value in _flatten({k: v for k, v in data.items() if k not in {"command", "machine", "title"}}):
        if isinstance(value, bool) and "targets" in name:
            rows.append((name.replace(" / targets / ", ": "), "", "", "yes" if value else "no"))
        elif not isinstance(value, str):
            rows.append((name, _shown(value), "", ""))
    return rows


def plot_e2e(outcome: Outcome, path: Path) -> bool:
    """Latency percentiles against offered load, from the e2e benchmark's steps."""
    steps = [s for s in (outcome.data or {}).get("steps", []) if "p50_s" in s]
    if not steps:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = [s["rate"] for s in steps]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for key, label in (("p50_s", "p50"), ("p95_s", "p95"), ("p99_s", "p99")):
        ax.plot(rates, [s[key] for s in steps], marker="o", label=label)
    target = (outcome.data or {}).get("targets", {}).get("p95 s at sustained rate", "")
    bound = re.findall(r"\d+(?:\.\d+)?", target)
    if bound:
        ax.axhline(float(bound[0]), color="grey", linestyle="--", linewidth=1, label=f"p95 target {bound[0]} s")
    ax.set_xlabel("offered load (messages/s)")
    ax.set_ylabel("webhook received to reply sent (s)")
    ax.set_title("Tumaini end to end, " + (outcome.data or {}).get("machine", platform.machine()))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal:")))
        memory = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "RAM unknown"
    return f"{cpu}, {os.cpu_count()} cores, {memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_report(outcomes: list[Outcome], out: Path, plot: Path | None, command: str, load: float) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# Performance", "",
             f"Report written {now} on {machine_description()} (load average {load:.1f}).", "",
             f"Regenerate with `{command}`. Each benchmark ran alone, in its own process. The load average "
             "when each started is shown: other work on the machine slows every figure down.", "",
             "| benchmark | status | run at | load | took | command |", "| --- | --- | --- | ---: | ---: | --- |"]
    for o in outcomes:
        status = o.status if o.returncode in (None, 0) else f"{o.status} (exit {o.returncode})"
        shown_load = f"{o.load:.1f}" if o.load is not None else ""
        lines.append(f"| {o.name} | {status} | {o.when} | {shown_load} | {o.seconds:.0f} s | "
                     f"`{o.command or 'n/a'}` |")
    if plot is not None:
        lines += ["", "## End-to-end latency against load", "",
                  f"![latency against offered load]({os.path.relpath(plot, out.parent)})", "",
                  "Each point is one step of `bench/e2e.py`: messages offered at a fixed rate for a fixed time, "
                  "latency from the webhook's `received_at` to the first reply's `sent_at`."]
    for o in outcomes:
        lines += ["", f"## {o.name}", ""]
        if o.data and o.data.get("title"):
            lines += [o.data["title"], ""]
        if o.status == "missing":
            lines += [f"Not run: {o.error}."]
            continue
        if o.error:
            lines += [f"{o.status.capitalize()}:", "", "```", o.error, "```", ""]
        rows = table_rows(o.data) if o.data else []
        if rows:
            lines += ["| figure | value | target | met |", "| --- | ---: | --- | --- |"]
            lines += [f"| {name} | {value} | {target} | {met} |" for name, value, target, met in rows]
        elif o.text.strip():
            tail = o.text.strip().splitlines()[-MAX_TEXT_LINES:]
            lines += ["Output (the benchmark has no --json):", "", "```", *tail, "```"]
        steps = (o.data or {}).get("steps")
        if steps:
            lines += ["", "| offered/s | p50 s | p95 s | p99 s | completed/s | kept up |",
                      "| ---: | ---: | ---: | ---: | ---: | --- |"]
            for s in steps:
                lines.append(f"| {s['rate']:g} | {_shown(s.get('p50_s', float('nan')))} | "
                             f"{_shown(s.get('p95_s', float('nan')))} | {_shown(s.get('p99_s', float('nan')))} | "
                             f"{_shown(s.get('completed_per_s', float('nan')))} | "
                             f"{'yes' if s.get('kept_up') else 'no'} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _parse_extra(pairs: list[str]) -> dict[str, list[str]]:
    extra: dict[str, list[str]] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        extra[name.strip()] = shlex.split(value)
    return extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--skip", default="", help="comma-separated benchmark names")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    parser.add_argument("--args", action="append", default=[], metavar='NAME="ARGS"',
                        help="extra arguments for one benchmark, e.g. e2e=\"--rates 2,4,8\"")
    parser.add_argument("--from-saved", action="store_true", help="rebuild the report from bench/out/report/")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "PERFORMANCE.md")
    parser.add_argument("--bench-dir", type=Path, default=BENCH, help="where the benchmarks are (default bench/)")
    parser.add_argument("--saved-dir", type=Path, default=SAVED, help="where raw outputs are kept")
    args = parser.parse_args(argv)

    names = args.only.split(",") if args.only else list(dict.fromkeys([*EXPECTED, *discover(args.bench_dir)]))
    names = [n for n in names if n and n not in args.skip.split(",")]
    extra = _parse_extra(args.args)
    load = os.getloadavg()[0]
    outcomes: list[Outcome] = []
    args.saved_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        saved = args.saved_dir / f"{name}.json"
        if args.from_saved and saved.exists():
            outcome = Outcome(**{k: v for k, v in json.loads(saved.read_text()).items()
                                 if k in Outcome.__dataclass_fields__})
        else:
            outcome = run(args.bench_dir, name, extra.get(name, []), args.timeout)
            saved.write_text(json.dumps(asdict(outcome), default=str))
        outcomes.append(outcome)
        print(f"  {name}: {outcome.status}", file=sys.stderr)
    e2e = next((o for o in outcomes if o.name == "e2e"), None)
    plot_path = args.out.parent / "performance-e2e.png"
    plotted = e2e is not None and plot_e2e(e2e, plot_path)
    given = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--from-saved"]
    command = shlex.join([".venv/bin/python", "-m", "bench.report", *given])
    write_report(outcomes, args.out, plot_path if plotted else None, command, load)
    print(f"wrote {args.out}" + (f" and {plot_path}" if plotted else ""), file=sys.stderr)
    return 0 if all(o.status in ("ok", "missing") for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
