"""bench/report.py: one report whatever the benchmarks do.

Small stand-in benchmarks (scripts in a temporary bench directory) succeed with
JSON, fail, hang, or print only text; the report must list each as it went,
judge figures against their targets, and plot the end-to-end steps.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from bench import report

E2E_RESULT = {
    "title": "End-to-end", "machine": "test machine", "command": "e2e",
    "figures": {"sustained messages/s": 8.0, "p95 s at sustained rate": 0.4, "webhook errors": 2},
    "targets": {"sustained messages/s": ">= 5", "p95 s at sustained rate": "<= 5", "webhook errors": "0"},
    "steps": [{"rate": 2.0, "p50_s": 0.1, "p95_s": 0.2, "p99_s": 0.3, "completed_per_s": 2.0, "kept_up": True},
              {"rate": 8.0, "p50_s": 0.2, "p95_s": 0.4, "p99_s": 0.5, "completed_per_s": 7.9, "kept_up": True},
              {"rate": 16.0, "p50_s": 3.0, "p95_s": 9.0, "p99_s": 9.5, "completed_per_s": 11.0, "kept_up": False}],
}


def _bench_dir(tmp_path: Path) -> Path:
    bench = tmp_path / "bench"
    bench.mkdir()
    scripts = {
        "e2e": f"""
            import json, sys
            assert "--json" in sys.argv and "--rates" in sys.argv
            print("warming up")
            print(json.dumps({E2E_RESULT!r}, indent=2))
        """,
        "webhook": """
            import sys
            print("cannot reach PostgreSQL", file=sys.stderr)
            sys.exit(3)
        """,
        "turns": """
            import time
            time.sleep(30)
        """,
        "safety": """
            print("lexicon-only assess(): mean 0.05 ms")
        """,
        "translation": """
            import json, sys
            print(json.dumps({"summary": {"marian": {"ours_vs_hf_throughput_1t": 5.2,
                  "targets": {"throughput >= 4x transformers": True, "peak rss <= 1.3x ct2": False}}}}))
        """,
    }
    for name, body in scripts.items():
        flag = '\n# parser.add_argument("--json")\n' if name != "safety" else "\n"
        (bench / f"{name}.py").write_text(textwrap.dedent(body) + flag + 'if __name__ == "__main__":\n    pass\n')
    return bench


def test_the_report_lists_every_benchmark_as_it_went(tmp_path):
    out = tmp_path / "docs" / "PERFORMANCE.md"
    code = report.main(["--bench-dir", str(_bench_dir(tmp_path)), "--saved-dir", str(tmp_path / "saved"),
                        "--out", str(out), "--timeout", "3", "--args", "e2e=--rates 2,8,16"])
    assert code == 1, "a failed benchmark makes the run fail, after the report is written"
    text = out.read_text()
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}

    assert "| sustained messages/s | 8 | >= 5 | yes |" in sections["e2e"]
    assert "| webhook errors | 2 | 0 | no |" in sections["e2e"]
    assert "| 16 | 3 | 9 | 9.5 | 11 | no |" in sections["e2e"]
    assert "cannot reach PostgreSQL" in sections["webhook"]
    assert "| webhook | failed (exit 3) |" in text
    assert "| turns | timed out |" in text
    assert "lexicon-only assess(): mean 0.05 ms" in sections["safety"]
    assert "throughput >= 4x transformers |  |  | yes |" in sections["translation"]
    assert "peak rss <= 1.3x ct2 |  |  | no |" in sections["translation"]
    assert "Not run:" in sections["dialogue"] and "Not run:" in sections["drain"]
    assert "bench/e2e.py --json --rates 2,8,16`" in text

    plot = out.parent / "performance-e2e.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    assert "![latency against offered load](performance-e2e.png)" in text


def test_the_report_can_be_rebuilt_from_saved_outputs_without_rerunning(tmp_path):
    bench = _bench_dir(tmp_path)
    saved = tmp_path / "saved"
    out = tmp_path / "PERFORMANCE.md"
    report.main(["--bench-dir", str(bench), "--saved-dir", str(saved), "--out", str(out), "--only", "e2e",
                 "--args", "e2e=--rates 2"])
    (bench / "e2e.py").write_text("raise SystemExit('must not run again')\n")
    assert report.main(["--bench-dir", str(bench), "--saved-dir", str(saved), "--out", str(out), "--only", "e2e",
                        "--from-saved"]) == 0
    assert json.loads((saved / "e2e.json").read_text())["status"] == "ok"
    assert "| sustained messages/s | 8 | >= 5 | yes |" in out.read_text()


def test_targets_are_judged_only_when_they_are_numeric_comparisons():
    assert report._met(0.4, "<= 5") == "yes" and report._met(7, "<= 5") == "no"
    assert report._met(300, ">= 300") == "yes" and report._met(0, "0") == "yes"
    assert report._met(3, "= stored") == "" and report._met("wrk", "") == ""
    assert report._met(float("nan"), "<= 5") == ""
