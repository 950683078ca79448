"""How well free text is understood, on content/intents/intent_eval.csv.

Each row is a message as people write it (short, misspelt, code-switched) and what should
happen: a module id, ``support:<theme>`` (the supportive reply for that emotional content),
``talk`` (a handoff), ``none`` (not about anything we offer) or ``crisis`` (the safety gate
must take it; it never reaches routing). Every message goes through the crisis gate first,
as in the worker, then through the understander, and is timed.

A module row counts as right when the module opens, or when a short numbered question asks
about it first; a ``support:<theme>`` row when that theme's supportive reply is sent.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVAL_FILE = Path(__file__).resolve().parent.parent / "content" / "intents" / "intent_eval.csv"
EMOTIONAL = "support:"


@dataclass(frozen=True)
class Row:
    text: str
    lang: str
    expected: str
    set: str = "dev"  # "heldout": written after the cues were last changed, never tuned on


@dataclass(frozen=True)
class Routed:
    row: Row
    predicted: str  # crisis | talk | <module> | support:<theme> | which:<a>,<b> | none
    ms: float

    @property
    def right(self) -> bool:
        expected, predicted = self.row.expected, self.predicted
        if predicted == expected:
            return True
        return predicted.startswith("which:") and predicted.removeprefix("which:").split(",")[0] == expected


@dataclass
class Report:
    routed: list[Routed] = field(default_factory=list)

    def _share(self, rows: list[Routed]) -> float:
        return sum(r.right for r in rows) / len(rows) if rows else 0.0

    @property
    def accuracy(self) -> float:
        return self._share(self.routed)

    def by_set(self) -> dict[str, float]:
        sets = sorted({r.row.set for r in self.routed})
        return {name: self._share([r for r in self.routed if r.row.set == name]) for name in sets}

    def by_lang(self) -> dict[str, float]:
        langs = sorted({r.row.lang for r in self.routed})
        return {lang: self._share([r for r in self.routed if r.row.lang == lang]) for lang in langs}

    @property
    def crisis_to_module(self) -> list[str]:
        """Crisis messages the gate missed and routing sent to a module (must be none)."""
        return [r.row.text for r in self.routed if r.row.expected == "crisis" and r.predicted not in
                {"crisis", "none", "talk"} and not r.predicted.startswith((EMOTIONAL, "which:"))]

    @property
    def emotional_not_understood(self) -> float:
        rows = [r for r in self.routed if r.row.expected.startswith(EMOTIONAL)]
        return sum(r.predicted == "none" for r in rows) / len(rows) if rows else 0.0

    @property
    def wrong(self) -> list[Routed]:
        return [r for r in self.routed if not r.right]

    def percentile_ms(self, q: float) -> float:
        values = sorted(r.ms for r in self.routed if r.predicted != "crisis")
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def read(path: Path = EVAL_FILE) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [Row(r["text"], r["lang"], r["expected"], r.get("set") or "dev") for r in csv.DictReader(handle)]


def label(understood: Any) -> str:
    if understood.talk:
        return "talk"
    if understood.theme is not None:
        return f"{EMOTIONAL}{understood.theme}"
    modules = [t.split(":", 1)[1] if t.startswith("module:") else t for t in understood.targets]
    if understood.targets and (understood.confident or len(understood.targets) == 1):
        return modules[0]
    if len(modules) >= 2:
        return "which:" + ",".join(modules)
    return "none"


def evaluate(rows: Iterable[Row], understander: Any, gate: Any | None = None) -> Report:
    report = Report()
    for row in rows:
        if gate is not None and gate.assess(row.text, row.lang).is_crisis:
            report.routed.append(Routed(row, "crisis", 0.0))
            continue
        started = time.perf_counter()
        understood = understander.understand(row.text, row.lang)
        report.routed.append(Routed(row, label(understood), (time.perf_counter() - started) * 1000))
    return report
