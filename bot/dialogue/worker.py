"""The dialogue model as the conversation engine sees it, inside a worker.

The engine asks for a reply to free text it could not route; this module answers with the
guarded model's text, or with None so the engine uses approved content. Generation reads and
writes English, so a message in another language goes through translation both ways, and only
when the translation is confident. Numbers and links a generated reply may cite are the
person's region's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.conversation import Generated
from content.store import ContentMissing
from translation.errors import TranslationError
from translation.langid import UNDETERMINED

ReplyFn = Callable[[str, str, str, str], Generated | None]


def _confident(result: Any) -> str:
    if not result.ok:
        raise TranslationError(result.reason or "low confidence")
    return str(result.text)


def region_allowlist(region: Any) -> tuple[str, ...]:
    """What a generated reply may cite in a region: its services, its emergency number, and the
    numbers and links its file allows."""
    emergency = (region.emergency.number,) if getattr(region, "emergency", None) is not None else ()
    return (tuple(h.number for h in region.helplines) + emergency + tuple(region.allowed_numbers)
            + tuple(region.allowed_domains))


def engine_reply(services: Any, translator: Callable[[], Any], english_of: Callable[[str, str], Any | None],
                 is_crisis: Callable[[str], bool]) -> ReplyFn | None:
    """The engine's free-text helper, or None when the dialogue model is off.

    ``translator`` returns the worker's translator (or None); ``english_of`` returns the
    translation the safety gate already made of this message, if any, so the same words are
    not translated twice; ``is_crisis`` runs the crisis gate on a candidate reply.
    """
    if not services.config.DIALOGUE_ENABLED:
        return None
    service = services.dialogue

    def allowlist(region_id: str) -> tuple[str, ...]:
        """Numbers and links a generated reply may cite: the person's region's own."""
        try:
            region = services.library.region(region_id)
        except ContentMissing:
            region = services.library.region(services.config.DEFAULT_REGION)
        return region_allowlist(region)

    def reply(text: str, locale: str, text_lang: str, region_id: str) -> Generated | None:
        if text_lang == UNDETERMINED:
            return None  # no model may read this text; the engine answers with approved content
        translate_in = translate_out = None
        reads, writes = text_lang.split("-")[0] != "en", locale.split("-")[0] != "en"
        if reads or writes:
            mt = translator()
            if mt is None or (reads and not mt.supports(text_lang, "en")) or \
                    (writes and not mt.supports("en", locale)):
                return None
        if reads:

            def translate_in(t: str) -> str:
                held = english_of(t, text_lang)
                return _confident(held if held is not None else mt.translate(t, text_lang, "en", cacheable=False))

        if writes:

            def translate_out(t: str) -> str:
                return _confident(mt.translate(t, "en", locale, cacheable=False))

        result = service.reply(text, locale, allowlist=allowlist(region_id), translate_in=translate_in,
                               translate_out=translate_out, safety_flag=is_crisis)
        ref = f"generated:{result.model_name}@{result.model_version}"
        if result.generated:
            return Generated(result.text, ref)
        if result.rule in {"disabled", "unavailable"}:
            return None
        return Generated(None, ref, result.rule)

    return reply
