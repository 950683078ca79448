"""Composite translators: pivot through a middle language, and route each pair to a model.

Few direct models exist between, say, Hausa and Swahili, but both pair well with English.
Pivoting costs a second model call and compounds errors, so direct routes (pair models
first: they are smaller and faster, then multilingual models) always win over a pivot.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from translation.base import IdentityTranslator, Translation, Translator
from translation.errors import UnsupportedLanguagePair
from translation.languages import base_language, same_language


class PivotTranslator(Translator):
    """src -> pivot with ``first``, then pivot -> tgt with ``second``: two batch calls."""

    def __init__(self, first: Translator, second: Translator, pivot: str = "en"):
        self.first = first
        self.second = second
        self.pivot = pivot

    def supports(self, src: str, tgt: str) -> bool:
        """Both legs must be served."""
        return self.first.supports(src, self.pivot) and self.second.supports(self.pivot, tgt)

    def version(self, src: str, tgt: str) -> str:
        """Both legs' versions: changing either model changes the pivoted output."""
        return f"{self.first.version(src, self.pivot)}>{self.second.version(self.pivot, tgt)}"

    def route(self, src: str, tgt: str) -> list[str]:
        """The models of both legs."""
        return self.first.route(src, self.pivot) + self.second.route(self.pivot, tgt)

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Confidence is the weaker leg's, and a failure of either leg is reported."""
        middle = self.first.translate_batch(texts, src, self.pivot, cacheable=cacheable)
        final = self.second.translate_batch([m.text for m in middle], self.pivot, tgt, cacheable=cacheable)
        results = []
        for a, b in zip(middle, final, strict=True):
            confidence = min(a.confidence, b.confidence)
            if not a.ok:
                results.append(Translation(b.text, confidence, False, a.reason))
            else:
                results.append(Translation(b.text, confidence, b.ok, b.reason))
        return results


class RoutingTranslator(Translator):
    """Chooses, per language pair, identity, a direct model, or a pivot through ``pivot``."""

    def __init__(self, translators: Sequence[Translator], pivot: str = "en"):
        self.translators = list(translators)
        self.pivot = base_language(pivot)
        self._identity = IdentityTranslator()
        self._routes: dict[tuple[str, str], Translator | None] = {}
        self._lock = threading.Lock()

    def _direct(self, src: str, tgt: str) -> Translator | None:
        for translator in self.translators:
            if translator.supports(src, tgt):
                return translator
        return None

    def resolve(self, src: str, tgt: str) -> Translator | None:
        """The translator that serves the pair, or None."""
        key = (base_language(src), base_language(tgt))
        with self._lock:
            if key in self._routes:
                return self._routes[key]
        s, t = key
        chosen: Translator | None
        if same_language(s, t):
            chosen = self._identity
        else:
            chosen = self._direct(s, t)
            if chosen is None and self.pivot not in key:
                first, second = self._direct(s, self.pivot), self._direct(self.pivot, t)
                if first is not None and second is not None:
                    chosen = PivotTranslator(first, second, self.pivot)
        with self._lock:
            self._routes[key] = chosen
        return chosen

    def _require(self, src: str, tgt: str) -> Translator:
        chosen = self.resolve(src, tgt)
        if chosen is None:
            raise UnsupportedLanguagePair(f"no installed model translates {src}->{tgt}")
        return chosen

    def supports(self, src: str, tgt: str) -> bool:
        """Whether some route exists."""
        return self.resolve(src, tgt) is not None

    def version(self, src: str, tgt: str) -> str:
        """The chosen route's version."""
        return self._require(src, tgt).version(src, tgt)

    def route(self, src: str, tgt: str) -> list[str]:
        """The chosen route's models."""
        return self._require(src, tgt).route(src, tgt)

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Translate with the chosen route; raises UnsupportedLanguagePair when there is none."""
        return self._require(src, tgt).translate_batch(texts, src, tgt, cacheable=cacheable)
