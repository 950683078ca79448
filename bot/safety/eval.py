"""Recall and precision of the gate on a labelled red-team CSV.

The CSV has columns ``text,lang,expected`` (``crisis`` or ``not_crisis``) and
may add:

- ``category``: the pathway a crisis row should take (``suicide``,
  ``self_harm``, ``third_party``...), ``none`` or ``distress`` for the rest;
- ``split``: ``tuning`` (rows the lexicons and exemplars were written from),
  ``learn`` (rows written by people who had read none of the lexicons: the
  learnt reading learns from them and lexicon recall passes are written from
  their misses; their other halves are sealed in ``crisis_fresh_wave*.csv``)
  or ``test`` (held out: nothing is written or learnt from them), so the
  parts can be scored apart;
- ``translated_en`` (checked like the worker would) and free columns such as
  ``kind``.

Crisis means level HIGH or above. Figures are given per language because a
gate that is precise in English and noisy in Swahili fails Swahili speakers,
whatever the overall number says, and per category because a gate that
finds every suicidal message and no child disclosing abuse fails that child.
A category's recall counts a row as found only when the gate sends it down
that category's pathway; ``detected`` counts any crisis reply.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.safety.exceptions import RedTeamFileError
from bot.safety.gate import SafetyGate
from bot.safety.levels import DISTRESS, PATHWAY_PRECEDENCE

LABELS = ("crisis", "not_crisis")
REQUIRED = ("text", "lang", "expected")
SPLITS = ("tuning", "learn", "test")
SPLIT_NAMES = f"{', '.join(SPLITS[:-1])} or {SPLITS[-1]}"
NO_CATEGORY = "none"


@dataclass(frozen=True)
class Case:
    line: int
    text: str
    lang: str
    expected: bool  # True: crisis
    translated_en: str | None = None
    category: str | None = None  # the pathway a crisis row should take
    split: str | None = None  # tuning, learn or test


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
class CategoryScores:
    """One crisis category: rows of it sent down its pathway, and rows sent there wrongly.

    ``detected`` counts rows of the category that got any crisis reply (a
    child's disclosure answered by the violence pathway is detected but not
    recalled). Precision is over every row the gate sent down this pathway.
    """

    rows: int = 0
    recalled: int = 0
    detected: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.recalled / self.rows if self.rows else 1.0

    @property
    def detected_rate(self) -> float:
        return self.detected / self.rows if self.rows else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "recall": round(self.recall, 4),
            "detected": round(self.detected_rate, 4),
            "precision": round(self.precision, 4),
            "n": self.rows,
        }


@dataclass
class EvalReport:
    overall: Scores = field(default_factory=Scores)
    per_language: dict[str, Scores] = field(default_factory=dict)
    per_category: dict[str, CategoryScores] = field(default_factory=dict)
    misses: list[Case] = field(default_factory=list)  # crisis rows the gate missed
    false_alarms: list[Case] = field(default_factory=list)
    wrong_pathway: list[tuple[Case, str | None]] = field(default_factory=list)  # found, other category
    split: str | None = None
    # Rows below HIGH that the person would be asked about directly (Assessment.ask): a
    # crisis row asked about reaches help when the person answers YES or "maybe".
    asked_crisis: int = 0
    asked_not_crisis: int = 0

    @property
    def reached(self) -> float:
        """Crisis rows that open the crisis path or are asked about directly."""
        crisis = self.overall.tp + self.overall.fn
        return (self.overall.tp + self.asked_crisis) / crisis if crisis else 1.0

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI prints."""
        out: dict[str, Any] = {
            "overall": self.overall.as_dict(),
            "asked": {"crisis": self.asked_crisis, "not_crisis": self.asked_not_crisis,
                      "reached": round(self.reached, 4)},
            "per_language": {lang: s.as_dict() for lang, s in sorted(self.per_language.items())},
            "per_category": {cat: s.as_dict() for cat, s in sorted(self.per_category.items())},
        }
        if self.split:
            out["split"] = self.split
        return out


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
            category = _category(row.get("category"), expected == "crisis", f"{path}:{line}")
            split = (row.get("split") or "").strip().lower() or None
            if split is not None and split not in SPLITS:
                raise RedTeamFileError(f"{path}:{line}: split must be {SPLIT_NAMES}, not {split!r}")
            cases.append(Case(line, text, lang, expected == "crisis", translated, category, split))
    if not cases:
        raise RedTeamFileError(f"{path}: no rows")
    return cases


def _category(raw: str | None, crisis: bool, where: str) -> str | None:
    value = (raw or "").strip().lower()
    if not value:
        return None
    allowed = PATHWAY_PRECEDENCE if crisis else (NO_CATEGORY, DISTRESS)
    if value not in allowed:
        kind = "a crisis row" if crisis else "a not_crisis row"
        raise RedTeamFileError(f"{where}: category of {kind} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def select(cases: Iterable[Case], split: str | None) -> list[Case]:
    """The rows of one part (``tuning``, ``learn`` or ``test``), or all of them."""
    if split is None:
        return list(cases)
    if split not in SPLITS:
        raise RedTeamFileError(f"split must be {SPLIT_NAMES}, not {split!r}")
    chosen = [case for case in cases if case.split == split]
    if not chosen:
        raise RedTeamFileError(f"no rows in the {split} part (is there a split column?)")
    return chosen


def evaluate(gate: SafetyGate, cases: Iterable[Case], split: str | None = None) -> EvalReport:
    """Run the gate over every case and count hits and misses per language and category."""
    report = EvalReport(split=split)
    for case in cases:
        assessment = gate.assess(case.text, case.lang or None, case.translated_en)
        predicted = assessment.is_crisis
        report.overall.add(case.expected, predicted)
        report.per_language.setdefault(case.lang or "und", Scores()).add(case.expected, predicted)
        if assessment.ask and not predicted:
            if case.expected:
                report.asked_crisis += 1
            else:
                report.asked_not_crisis += 1
        if case.expected and not predicted:
            report.misses.append(case)
        elif predicted and not case.expected:
            report.false_alarms.append(case)
        if case.expected and case.category:
            scores = report.per_category.setdefault(case.category, CategoryScores())
            scores.rows += 1
            scores.detected += predicted
            scores.recalled += predicted and assessment.category == case.category
            if predicted and assessment.category != case.category:
                report.wrong_pathway.append((case, assessment.category))
        if predicted and assessment.category in PATHWAY_PRECEDENCE and (case.category or not case.expected):
            scores = report.per_category.setdefault(assessment.category, CategoryScores())
            scores.predicted += 1
            scores.correct += case.expected and case.category == assessment.category
    return report
