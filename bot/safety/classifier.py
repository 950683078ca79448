"""A linear reading of a message's embedding, learnt from curated sentences at worker start.

Lexicons catch the phrasings someone wrote down; people in crisis keep finding new ones. The
nearest-example rule (bot.safety.similarity) compares a message with about a hundred curated
examples. This reads the same embedding against everything the safety team has labelled:

- the red-team set's tuning rows (``content/redteam/crisis_redteam.csv``, split ``tuning``:
  crisis rows by category, and the hard not-crisis rows: hyperbole, idioms, grief, negation),
  and its ``learn`` rows, written by people who had read none of the lexicons: the phrasings
  nobody on the safety team thought of, which is what this reading is for;
- every lexicon's examples (with their category) and counter-examples;
- the everyday requests of the intent eval's ``dev`` rows (``content/intents/intent_eval.csv``),
  as not crisis.

The red-team ``test`` rows and the intent eval's ``heldout`` rows are never learnt from, so the
figures measured on them stay honest (docs/safety.md).

Learning is kernel ridge regression of one-hot labels (the seven pathways and "none") on the
centred, normalised e5 vectors, with a Gaussian kernel on their cosine, ``exp(gamma * (cos - 1))``,
each sentence weighted by the inverse square root of its label's count. A straight line through
the embedding space could not separate "I want to sleep and never wake up" from "I want to sleep
better": the kernel lets every curated sentence speak for its own neighbourhood, so a paraphrase
near a crisis row reads as that row's pathway while an everyday request near it reads as "none".
Five-fold cross-validated recall at the calibrated HIGH threshold went from 0.33 (linear) to 0.66
(docs/safety.md). The fit is a closed-form solve at worker start: deterministic, about 5 CPU
seconds for 7,500 sentences, factorising the kernel in place (a transient 225 MB, released once
it is done); a reading then costs one product with the curated vectors (under 2 ms). A
message's score is its best pathway's output minus "none"'s. At ``high_at`` or above the gate reads HIGH on that pathway; from ``concern_at``
it reads CONCERN, so the person gets a supportive reply and the way to a health worker rather
than "Sorry, I didn't understand". Like the nearest-example rule it only ever raises a level,
and never where the lexicon has recognised a negation or a benign idiom.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.safety.levels import PATHWAY_PRECEDENCE, Level
from bot.safety.lexicon import Lexicon
from bot.safety.vectors import CuratedVectors

log = logging.getLogger(__name__)

NONE = "none"
# Calibrated by five-fold cross-validation on the curated sentences (python -m bench.safety
# --classifier): the lowest HIGH threshold at which cross-validated precision is at least 0.95
# and no everyday request of the intent eval reads as a crisis (re-run it after adding curated
# sentences: each one moves the fit a little).
DEFAULT_RIDGE = 0.3
DEFAULT_GAMMA = 2.0  # kernel width: exp(gamma * (cos - 1)) on centred unit vectors
DEFAULT_HIGH_AT = 0.30
DEFAULT_CONCERN_AT = 0.05
# Between ASK_AT and HIGH_AT a crisis is possible but not clear: the conversation asks the
# person directly (bot.conversation.ask). The lowest threshold, in steps of 0.05, at which at
# most one everyday request in ten that was never learnt from would be asked (same sweep).
DEFAULT_ASK_AT = 0.05
LEARNT_SPLITS = ("tuning", "learn")  # the red-team parts learnt from; never "test"
MIN_PER_CLASS = 5  # below this, nothing worth learning: the layer stays off
BLOCK = 512  # rows of the kernel handled at once while solving (bounds the transient memory)


@dataclass(frozen=True)
class Labelled:
    """One curated sentence and its label: a pathway category, or "none"."""

    text: str
    label: str


@dataclass(frozen=True)
class Reading:
    """The classifier's view of one message."""

    category: str
    score: float


def curated_sentences(content_dir: Path, lexicons: Iterable[Lexicon]) -> list[Labelled]:
    """Everything the classifier learns from, found beside the content library."""
    out: list[Labelled] = []
    for lexicon in lexicons:
        out.extend(Labelled(ex.text, ex.category or "suicide") for ex in lexicon.examples
                   if ex.level >= Level.HIGH and (ex.category or "suicide") in PATHWAY_PRECEDENCE)
        out.extend(Labelled(ex.text, NONE) for ex in lexicon.counter_examples)
    redteam = content_dir.parent / "redteam" / "crisis_redteam.csv"
    if redteam.exists():
        with redteam.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if (row.get("split") or "").strip() not in LEARNT_SPLITS or not (row.get("text") or "").strip():
                    continue
                crisis = row.get("expected", "").strip() == "crisis"
                category = (row.get("category") or "").strip()
                if crisis and category in PATHWAY_PRECEDENCE:
                    out.append(Labelled(row["text"], category))
                elif not crisis:
                    out.append(Labelled(row["text"], NONE))
    everyday = content_dir.parent / "intents" / "intent_eval.csv"
    if everyday.exists():
        with everyday.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("set") == "dev" and row.get("expected") != "crisis" and (row.get("text") or "").strip():
                    out.append(Labelled(row["text"], NONE))
    return out


class CrisisClassifier:
    """Kernel ridge regression over e5 embeddings: pathway scores for a message, learnt at start-up."""

    def __init__(
        self,
        embedder: Any,
        sentences: Sequence[Labelled],
        vectors: CuratedVectors | None = None,
        ridge: float = DEFAULT_RIDGE,
        high_at: float = DEFAULT_HIGH_AT,
        concern_at: float = DEFAULT_CONCERN_AT,
        ask_at: float = DEFAULT_ASK_AT,
        gamma: float = DEFAULT_GAMMA,
    ) -> None:
        self.embedder = embedder
        self.sentences = tuple(sentences)
        self.vectors = vectors or CuratedVectors(None)
        self.ridge = ridge
        self.gamma = gamma
        self.high_at = high_at
        self.concern_at = concern_at
        self.ask_at = ask_at
        self.labels: tuple[str, ...] = (NONE, *sorted({s.label for s in self.sentences} - {NONE}))
        self._fitted: _Fit | None = None

    @property
    def usable(self) -> bool:
        """Whether there is enough to learn from: some crisis and some not-crisis sentences."""
        counts = Counter(s.label for s in self.sentences)
        return counts[NONE] >= MIN_PER_CLASS and sum(n for k, n in counts.items() if k != NONE) >= MIN_PER_CLASS

    def fit(self, vectors: np.ndarray | None = None) -> None:
        """Learn the weights (embedding the curated sentences, or from ``vectors`` in their order)."""
        if vectors is None:
            vectors = self.vectors.embed(self.embedder, [s.text for s in self.sentences])
        vectors = np.asarray(vectors, dtype=np.float32)
        centre = vectors.mean(axis=0)
        curated = _unit(vectors - centre)
        index = {label: i for i, label in enumerate(self.labels)}
        targets = np.zeros((len(self.sentences), len(self.labels)), dtype=np.float32)
        targets[np.arange(len(self.sentences)), [index[s.label] for s in self.sentences]] = 1.0
        counts = Counter(s.label for s in self.sentences)
        weights = np.array([counts[s.label] ** -0.5 for s in self.sentences])
        weights /= weights.mean()
        # Weighted kernel ridge: (K + ridge * W^-1) A = Y, solved by a Cholesky factorisation
        # written over the kernel in place, in single precision: the transient peak is one
        # n-by-n single-precision matrix (200 MB for 7,000 sentences; numpy's own solver widens
        # to double precision and copies, four times that). The ridge keeps the system well
        # conditioned, and scores agree with a double-precision solve to within 1e-4.
        kernel = self._kernel(curated, curated)
        kernel[np.diag_indices_from(kernel)] += (self.ridge / weights).astype(np.float32)
        _cholesky_in_place(kernel)
        dual = _cholesky_solve(kernel, targets)
        del kernel
        self._fitted = _Fit(centre, curated, dual)
        log.info("classifier.fitted", extra={"sentences": len(self.sentences), "labels": len(self.labels)})

    def _kernel(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        product = left @ right.T
        product -= 1.0
        product *= self.gamma
        np.exp(product, out=product)
        return product

    def warm(self) -> None:
        if self._fitted is None:
            self.fit()

    def read_vector(self, vector: np.ndarray) -> Reading:
        """The best pathway for one raw message embedding, with its margin over "none"."""
        if self._fitted is None:
            self.fit()
        assert self._fitted is not None
        fit = self._fitted
        message = _unit((np.asarray(vector, dtype=np.float32) - fit.centre)[None, :])
        outputs = (self._kernel(message, fit.curated) @ fit.dual)[0]
        best = 1 + int(np.argmax(outputs[1:]))
        return Reading(self.labels[best], float(outputs[best] - outputs[0]))

    def read(self, text: str) -> Reading:
        return self.read_vector(np.asarray(self.embedder.embed([text]), dtype=np.float32)[0])


def _cholesky_in_place(matrix: np.ndarray) -> None:
    """Overwrite the lower triangle of a symmetric positive-definite matrix with its Cholesky
    factor L (matrix = L @ L.T), BLOCK columns at a time, with no second n-by-n matrix."""
    n = len(matrix)
    for start in range(0, n, BLOCK):
        end = min(start + BLOCK, n)
        factor = np.linalg.cholesky(matrix[start:end, start:end].astype(np.float64))
        matrix[start:end, start:end] = factor
        if end == n:
            break
        # the panel below the diagonal block: L21 = A21 @ inv(L11).T
        matrix[end:, start:end] @= np.linalg.inv(factor).T.astype(np.float32)
        panel = matrix[end:, start:end]
        # the trailing lower triangle, a block column at a time: A22 -= L21 @ L21.T
        for column in range(end, n, BLOCK):
            stop = min(column + BLOCK, n)
            matrix[column:, column:stop] -= panel[column - end:] @ panel[column - end:stop - end].T


def _cholesky_solve(factor: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve L @ L.T @ x = rhs for the factor written by _cholesky_in_place (lower triangle)."""
    n = len(factor)
    y = np.empty((n, rhs.shape[1]), dtype=np.float64)
    starts = list(range(0, n, BLOCK))
    for start in starts:  # forward: L y = rhs
        end = min(start + BLOCK, n)
        known = rhs[start:end] - factor[start:end, :start] @ y[:start] if start else rhs[start:end]
        y[start:end] = np.linalg.solve(np.tril(factor[start:end, start:end]).astype(np.float64), known)
    x = np.empty_like(y)
    for start in reversed(starts):  # backward: L.T x = y
        end = min(start + BLOCK, n)
        known = y[start:end] - factor[end:, start:end].T @ x[end:] if end < n else y[start:end]
        x[start:end] = np.linalg.solve(np.tril(factor[start:end, start:end]).T.astype(np.float64), known)
    return x.astype(np.float32)


@dataclass(frozen=True)
class _Fit:
    centre: np.ndarray  # mean of the curated vectors
    curated: np.ndarray  # the curated sentences' centred unit vectors, one row each
    dual: np.ndarray  # one weight per curated sentence and label


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float32)
