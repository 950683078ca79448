"""Recall and precision of the gate on a labelled red-team CSV.

The CSV has columns ``text,lang,expected`` (``crisis`` or ``not_crisis``) and
may add ``translated_en`` (checked like the worker would) and free columns
such as ``kind``. Crisis means level HIGH or above. Figures are given per
language because a gate that is precise in English and noisy in Swahili
fails Swahili speakers, whatever the overall number says.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.safety.exceptions import RedTeamFileError
from bot.safety.gate import SafetyGate

LABELS = ("crisis", "not_crisis")
REQUIRED = ("text", "lang", "expected")


@dataclass(frozen=True)
class Case:
    line: int
    text: str
    lang: str
    expected: bool  # True: crisis
    translated_en: str | None = None


@dataclass
class Scores:
    """Confusion counts for one language (or all), with the derived rates.

    A rate with an empty denominator is 1.0: no crisis rows means nothing was
    missed, nothing flagged means no false alarm.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, predicted: bool) -> None:
        if expected and predicted:
            self.tp += 1
        elif expected:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"recall": round(self.recall, 4), "precision": round(self.precision, 4), "n": self.n}


@dataclass
class EvalReport:
    overall: Scores = field(default_factory=Scores)
    per_language: dict[str, Scores] = field(default_factory=dict)
    misses: list[Case] = field(default_factory=list)  # crisis rows the gate missed
    false_alarms: list[Case] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI prints."""
        return {
            "overall": self.overall.as_dict(),
            "per_language": {lang: s.as_dict() for lang, s in sorted(self.per_language.items())},
        }


def read_cases(path: Path | str) -> list[Case]:
    """Read and check a red-team CSV; errors name the line."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise RedTeamFileError(f"{path}: cannot open: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise RedTeamFileError(f"{path}: missing column(s) {', '.join(missing)}")
        cases = []
        for row in reader:
            line = reader.line_num
            expected = (row.get("expected") or "").strip().lower()
            if expected not in LABELS:
                raise RedTeamFileError(f"{path}:{line}: expected must be crisis or not_crisis, not {expected!r}")
            text = row.get("text") or ""
            if not text.strip():
                raise RedTeamFileError(f"{path}:{line}: empty text")
            lang = (row.get("lang") or "").strip()
            translated = (row.get("translated_en") or "").strip() or None
            cases.append(Case(line, text, lang, expected == "crisis", translated))
    if not cases:
        raise RedTeamFileError(f"{path}: no rows")
    return cases


def evaluate(gate: SafetyGate, cases: Iterable[Case]) -> EvalReport:
    """Run the gate over every case and count hits and misses per language."""
    report = EvalReport()
    for case in cases:
        assessment = gate.assess(case.text, case.lang or None, case.translated_en)
        predicted = assessment.is_crisis
        report.overall.add(case.expected, predicted)
        report.per_language.setdefault(case.lang or "und", Scores()).add(case.expected, predicted)
        if case.expected and not predicted:
            report.misses.append(case)
        elif predicted and not case.expected:
            report.false_alarms.append(case)
    return report
