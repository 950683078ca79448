"""Wire the installed models into one Translator: Cached(Protected(Routing([...]))).

The worker calls ``build_translator`` once per process (after any fork) and keeps the
result; nothing loads until the first translation, so building is cheap. The portal and the
CLI use ``translation.app.app_translator``, which builds one per Flask app on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from translation.base import Translator
from translation.cache import CachedTranslator, TranslationCache
from translation.catalog import PAIR, scan
from translation.composite import RoutingTranslator
from translation.ct2 import CT2Translator
from translation.pool import LoadOptions, ModelPool
from translation.protect import ProtectedTranslator, Protector


@dataclass(frozen=True)
class TranslationSettings:
    """Translation settings, normally read from the app config (see ``from_config``)."""

    intra_threads: int = 1
    inter_threads: int = 1
    memory_budget_mb: int = 1500
    confidence_threshold: float = 0.35
    compute_type: str = "int8"
    pivot: str = "en"
    decode_options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TranslationSettings:
        """Read TRANSLATION_THREADS, TRANSLATION_MEMORY_BUDGET_MB, TRANSLATION_CONFIDENCE_THRESHOLD."""
        return cls(
            intra_threads=int(config.get("TRANSLATION_THREADS", 1)),
            memory_budget_mb=int(config.get("TRANSLATION_MEMORY_BUDGET_MB", 1500)),
            confidence_threshold=float(config.get("TRANSLATION_CONFIDENCE_THRESHOLD", 0.35)),
        )

    @property
    def load_options(self) -> LoadOptions:
        """How the pool loads CTranslate2 models."""
        return LoadOptions(
            compute_type=self.compute_type,
            inter_threads=self.inter_threads,
            intra_threads=self.intra_threads,
        )


def build_translator(
    models_dir: Path,
    config: TranslationSettings | Mapping[str, Any],
    *,
    cache: TranslationCache | None = None,
    protector: Protector | None = None,
    pool: ModelPool | None = None,
) -> Translator:
    """A translator over every model in ``models_dir/*/manifest.json``.

    Pair models are preferred to multilingual ones for the pairs they serve; other pairs
    pivot through ``settings.pivot`` (English). Pass ``cache`` to let approved content be
    cached, and ``protector`` for keywords, names and glossary terms.
    """
    settings = config if isinstance(config, TranslationSettings) else TranslationSettings.from_config(config)
    pool = pool or ModelPool(settings.memory_budget_mb, settings.load_options)
    models = scan(Path(models_dir))
    ordered = [m for m in models if m.kind == PAIR] + [m for m in models if m.kind != PAIR]
    leaves = [
        CT2Translator(
            info,
            pool,
            threshold=settings.confidence_threshold,
            decode_options=settings.decode_options,
        )
        for info in ordered
    ]
    translator: Translator = ProtectedTranslator(RoutingTranslator(leaves, settings.pivot), protector)
    if cache is not None:
        translator = CachedTranslator(translator, cache, threshold=settings.confidence_threshold)
    return translator
