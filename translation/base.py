"""The Translator interface every implementation and decorator shares, plus the identity one.

One small interface with several implementations (a CTranslate2 model, identity, a pivot
composite) and decorators (protection, cache) keeps each concern testable alone and
lets the worker stack them: Cached(Protected(Routing([...]))).

Crisis and safety text never goes through a Translator at send time; the reviewed crisis
message for the person's locale is sent instead (callers enforce this).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from translation.languages import same_language

LOW_CONFIDENCE = "low confidence"
PROTECTED_TOKEN_LOST = "protected token lost"
SPURIOUS_PLACEHOLDER = "unexpected placeholder"


@dataclass(frozen=True)
class Translation:
    """A translated text and whether it is good enough to send.

    ``confidence`` is the model's own belief in its output, exp(mean token log-probability),
    in 0..1. ``ok`` is False when the confidence is under the configured threshold or a
    protected token (a hotline number, a URL, a placeholder) did not survive; ``reason`` then
    says which, so the caller can fall back to reviewed content or to English.
    """

    text: str
    confidence: float
    ok: bool
    reason: str | None = None


class Translator(ABC):
    """Translate batches of texts from one language to another.

    ``cacheable`` must be set True by the caller only for approved content and bot text.
    People's own messages are never cached, and the default keeps it that way.
    """

    @abstractmethod
    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Translate every text; the whole list costs one model call per model involved."""

    @abstractmethod
    def supports(self, src: str, tgt: str) -> bool:
        """Whether this translator can serve the pair (directly or through a pivot)."""

    @abstractmethod
    def version(self, src: str, tgt: str) -> str:
        """An identifier of the models serving the pair; it changes whenever outputs could."""

    def route(self, src: str, tgt: str) -> list[str]:
        """Names of the installed models that serve the pair, in the order they run."""
        return []

    def translate(self, text: str, src: str, tgt: str, *, cacheable: bool = False) -> Translation:
        """Translate one text (a batch of one)."""
        return self.translate_batch([text], src, tgt, cacheable=cacheable)[0]


class IdentityTranslator(Translator):
    """Returns texts unchanged when source and target are the same language."""

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Echo the texts with full confidence."""
        return [Translation(text, 1.0, True) for text in texts]

    def supports(self, src: str, tgt: str) -> bool:
        """Only for a language to itself (regional variants count as the same)."""
        return same_language(src, tgt)

    def version(self, src: str, tgt: str) -> str:
        """Identity never changes."""
        return "identity"


def gate(text: str, confidence: float, threshold: float) -> Translation:
    """A Translation whose ``ok`` reflects the confidence threshold."""
    if confidence >= threshold:
        return Translation(text, confidence, True)
    return Translation(text, confidence, False, LOW_CONFIDENCE)
