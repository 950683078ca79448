"""The quality gate: machine translation is enabled for a language only after it scores well.

A community provides a parallel test set (source<TAB>reference, written or checked by
people who speak the language). ``flask --app bot translate eval`` scores the installed
route with chrF++ and BLEU (sacrebleu), and the result is stored beside each model that
served it, in ``MODELS_DIR/<model>/eval.json``. A language whose chrF++ is under
TRANSLATION_MT_GATE_CHRF stays "needs review": the portal shows it, and machine-translated
drafts for it are never sent without a person's approval.

A result is tied to the model version it measured: replacing the model (new checksums)
makes the language "needs review" again until it is re-evaluated.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from translation.base import Translator
from translation.build import TranslationSettings, build_translator
from translation.catalog import load_model_info
from translation.errors import EvalFileError, ManifestError
from translation.languages import base_language

EVAL_FILE = "eval.json"
DEFAULT_GATE_CHRF = 45.0
ENABLED = "enabled"
NEEDS_REVIEW = "needs review"
_CHUNK = 32


@dataclass(frozen=True)
class MTScore:
    """The outcome of one evaluation of a language pair."""

    src: str
    tgt: str
    chrf: float
    bleu: float
    n: int
    gate_chrf: float
    passed: bool
    models: list[str] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)
    evaluated_at: str = ""

    @property
    def status(self) -> str:
        """ "enabled" or "needs review"."""
        return ENABLED if self.passed else NEEDS_REVIEW


def read_parallel_tsv(path: Path) -> tuple[list[str], list[str]]:
    """Sources and references from ``source<TAB>reference`` lines (blank lines skipped)."""
    sources, references = [], []
    with Path(path).open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise EvalFileError(f"{path}:{line_no}: expected source<TAB>reference")
            sources.append(parts[0].strip())
            references.append(parts[1].strip())
    if not sources:
        raise EvalFileError(f"{path}: no sentence pairs")
    return sources, references


def score_translations(hypotheses: list[str], references: list[str], tgt: str) -> tuple[float, float]:
    """chrF++ and BLEU of hypotheses against one reference each."""
    from sacrebleu.metrics import BLEU, CHRF

    tokenize = "zh" if base_language(tgt) == "zh" else "13a"
    chrf = CHRF(word_order=2).corpus_score(hypotheses, [references]).score
    bleu = BLEU(tokenize=tokenize, effective_order=True).corpus_score(hypotheses, [references]).score
    return round(chrf, 2), round(bleu, 2)


def evaluate(
    translator: Translator,
    sources: list[str],
    references: list[str],
    src: str,
    tgt: str,
    gate_chrf: float = DEFAULT_GATE_CHRF,
    models_dir: Path | None = None,
) -> MTScore:
    """Translate the sources in batches and score them against the references."""
    hypotheses: list[str] = []
    for start in range(0, len(sources), _CHUNK):
        chunk = sources[start : start + _CHUNK]
        hypotheses += [t.text for t in translator.translate_batch(chunk, src, tgt)]
    chrf, bleu = score_translations(hypotheses, references, tgt)
    models = translator.route(src, tgt)
    versions: dict[str, str] = {}
    if models_dir is not None:
        for name in models:
            try:
                versions[name] = load_model_info(Path(models_dir) / name).version
            except ManifestError:
                continue
    return MTScore(
        src=base_language(src),
        tgt=base_language(tgt),
        chrf=chrf,
        bleu=bleu,
        n=len(sources),
        gate_chrf=gate_chrf,
        passed=chrf >= gate_chrf,
        models=models,
        model_versions=versions,
        evaluated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"results": {}}
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable evaluation record ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ManifestError(f"{path}: not an evaluation record")
    return data


def record(models_dir: Path, result: MTScore) -> list[Path]:
    """Store the result in eval.json of every model on the route (atomically replaced)."""
    written = []
    for name in result.models:
        path = Path(models_dir) / name / EVAL_FILE
        data = _read(path)
        data["results"][f"{result.src}>{result.tgt}"] = asdict(result)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".eval-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
        os.replace(tmp, path)
        written.append(path)
    return written


def results(models_dir: Path) -> list[MTScore]:
    """Stored results that still describe what would run now: same route, same versions."""
    found: list[MTScore] = []
    root = Path(models_dir)
    if not root.is_dir():
        return found
    # Building the router reads manifests only; no model is loaded.
    router = build_translator(root, TranslationSettings())
    for path in sorted(root.glob(f"*/{EVAL_FILE}")):
        for item in _read(path)["results"].values():
            score = MTScore(**item)
            if _current(root, score, router):
                found.append(score)
    return found


def _current(root: Path, score: MTScore, router: Translator) -> bool:
    if not router.supports(score.src, score.tgt) or router.route(score.src, score.tgt) != score.models:
        return False
    for name, version in score.model_versions.items():
        try:
            if load_model_info(root / name).version != version:
                return False
        except ManifestError:
            return False
    return bool(score.model_versions)


def mt_enabled(models_dir: Path, lang: str, *, src: str | None = None) -> bool:
    """Whether machine translation into ``lang`` passed the gate with the installed models.

    With ``src`` only that direction counts; otherwise any evaluated source language does.
    """
    target = base_language(lang)
    source = base_language(src) if src else None
    return any(r.passed and r.tgt == target and (source is None or r.src == source) for r in results(models_dir))


def mt_status(models_dir: Path, lang: str, *, src: str | None = None) -> str:
    """ "enabled" or "needs review", as the portal shows it."""
    return ENABLED if mt_enabled(models_dir, lang, src=src) else NEEDS_REVIEW
