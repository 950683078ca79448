"""Accuracy of language ID on a labelled CSV (columns ``text,lang``), per language and overall.

A community adding a language writes a few dozen real-looking messages, runs
``flask --app bot langid eval FILE.csv`` and sees whether detection can be trusted for it
before it is used to pick anyone's language.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from translation.errors import EvalFileError
from translation.langid import Detection, detect
from translation.languages import base_language

DEFAULT_EVAL_FILE = Path(__file__).parent / "data" / "langid_eval.csv"


@dataclass(frozen=True)
class LabelledText:
    """One line of an eval file."""

    text: str
    lang: str


@dataclass
class LangidReport:
    """Correct / total per language; a detection counts when its base language matches."""

    correct: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    confusions: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, expected: str, detected: str) -> None:
        """Record one outcome."""
        self.total[expected] = self.total.get(expected, 0) + 1
        if detected != "und" and base_language(detected) == base_language(expected):
            self.correct[expected] = self.correct.get(expected, 0) + 1
        else:
            row = self.confusions.setdefault(expected, {})
            row[detected] = row.get(detected, 0) + 1

    def accuracy(self, lang: str) -> float:
        """Share of texts labelled ``lang`` that were detected as ``lang``."""
        n = self.total.get(lang, 0)
        return self.correct.get(lang, 0) / n if n else 0.0

    @property
    def overall(self) -> float:
        """Accuracy over every text, each text weighing the same."""
        n = sum(self.total.values())
        return sum(self.correct.values()) / n if n else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``langid eval --json``."""
        return {
            "overall": {"accuracy": round(self.overall, 4), "n": sum(self.total.values())},
            "per_language": {
                lang: {"accuracy": round(self.accuracy(lang), 4), "n": self.total[lang]} for lang in sorted(self.total)
            },
        }


def read_eval_csv(path: Path) -> list[LabelledText]:
    """Read ``text,lang`` rows; a missing column or empty cell names the offending line."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "lang"} <= set(reader.fieldnames):
            raise EvalFileError(f"{path}: the header must have the columns text,lang")
        rows = []
        for line_no, row in enumerate(reader, start=2):
            text, lang = (row.get("text") or "").strip(), (row.get("lang") or "").strip()
            if not text or not lang:
                raise EvalFileError(f"{path}:{line_no}: empty text or lang")
            rows.append(LabelledText(text, lang))
    return rows


def evaluate(
    rows: Iterable[LabelledText],
    detector: Callable[[str], Detection] = detect,
) -> LangidReport:
    """Run the detector on every row and tally the outcome."""
    report = LangidReport()
    for row in rows:
        report.add(row.lang, detector(row.text).lang)
    return report
