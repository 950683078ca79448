"""Free text to a module, by multilingual embeddings over the content's own words.

Each module is represented by its title and its step messages in every locale
that has them (drafts included: they are only compared against, never sent).
A module's score is the mean of its two closest passages, after the embeddings
are centred on the mean of all passages (e5 scores any two sentences 0.8-0.9
otherwise); the message goes to the best module when that is high enough. Two
passages rather than one keep a single look-alike sentence from pulling a message
into the wrong module. The threshold is calibrated on content/intents/intent_eval.csv.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from bot.safety.vectors import CuratedVectors

# No false matches on the eval set (a wrong module is worse than "say again"): with twelve languages
# of module text the closest everyday message scores 0.42 ("timu gani ilishinda jana"), the lowest
# module request the cues leave to embeddings 0.59.
DEFAULT_THRESHOLD = 0.45
PASSAGES_PER_MODULE = 2


class IntentMatcher:
    def __init__(self, content: Any, embedder: Any, threshold: float = DEFAULT_THRESHOLD,
                 vectors: CuratedVectors | None = None):
        self.content = content
        self.embedder = embedder
        self.vectors = vectors or CuratedVectors(None)  # the passages' vectors between starts
        self.threshold = threshold
        self._lock = threading.Lock()
        self._index: tuple[np.ndarray, list[str], np.ndarray] | None = None

    def _passages(self) -> list[tuple[str, str]]:
        from content.store import ContentMissing

        out: list[tuple[str, str]] = []
        for entry in self.content.menu(self.content.default_locale):
            module = self.content.module(entry.module_id)
            for item_id in (module.title_id, *module.steps):
                for locale in self.content.locales():
                    try:
                        text = self.content.preview(item_id, locale, "sms", {"helplines": ""}).text
                    except ContentMissing:
                        continue
                    out.append((module.id, text))
        return out

    def _build(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        with self._lock:
            if self._index is None:
                passages = self._passages()
                vectors = self.vectors.embed(self.embedder, [t for _, t in passages])
                centre = vectors.mean(axis=0)
                centred = vectors - centre
                centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
                self._index = (centred, [m for m, _ in passages], centre)
        return self._index

    def warm(self) -> None:
        self._build()

    def score(self, text: str) -> tuple[str | None, float]:
        """The closest module and its centred cosine score."""
        if not text.strip():
            return None, 0.0
        matrix, modules, centre = self._build()
        vector = np.asarray(self.embedder.embed([text]), dtype=np.float32)[0] - centre
        vector /= max(float(np.linalg.norm(vector)), 1e-9)
        scores = matrix @ vector
        by_module: dict[str, list[float]] = {}
        for module, passage_score in zip(modules, scores.tolist(), strict=True):
            by_module.setdefault(module, []).append(passage_score)
        ranked = {module: float(np.mean(sorted(values, reverse=True)[:PASSAGES_PER_MODULE]))
                  for module, values in by_module.items()}
        best = max(ranked, key=ranked.__getitem__)
        return best, ranked[best]

    def __call__(self, text: str, locale: str) -> str | None:
        module, score = self.score(text)
        return module if score >= self.threshold else None
