"""Machine translation in the portal, when a model is installed (MODELS_DIR).

Three uses: a draft translation of content for a translator to correct, a back-translation
so a reviewer who does not read the language can check the meaning, and a reading aid
that shows a health worker a person's messages in the worker's language next to the
original. Content may be cached (it is reviewed text); people's messages never are.
When no installed model serves a language pair, callers show "no translation model
installed" and the portal works as before.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from translation.base import Translation, Translator
from translation.errors import TranslationError, UnknownLanguage
from translation.languages import same_language

log = logging.getLogger(__name__)


def _translator() -> Translator | None:
    from bot.portal.web import services
    from translation.app import app_translator
    from translation.cache import TranslationCache

    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        return app_translator(app, cache=TranslationCache(services().redis))
    except (TranslationError, OSError) as exc:
        log.warning("portal.translator_unavailable", extra={"error": type(exc).__name__})
        return None


def wanted(src: str | None, reader: str) -> bool:
    """Whether a text written in ``src`` needs a machine translation for someone who reads
    ``reader``: another language, not only another region or script of the same one."""
    if not src or not reader:
        return False
    try:
        return not same_language(src, reader)
    except UnknownLanguage:
        return src.split("-")[0].lower() != reader.split("-")[0].lower()


def available(src: str, tgt: str) -> bool:
    """Whether an installed model translates src -> tgt (the same language needs none)."""
    if not wanted(src, tgt):
        return False
    translator = _translator()
    if translator is None:
        return False
    try:
        return translator.supports(src, tgt)
    except TranslationError:
        return False


def _run(texts: list[str], src: str, tgt: str, cacheable: bool) -> list[Translation] | None:
    if not texts or not available(src, tgt):
        return None
    translator = _translator()
    assert translator is not None  # available() said so
    try:
        return translator.translate_batch(texts, src, tgt, cacheable=cacheable)
    except TranslationError as exc:
        log.warning("portal.translation_failed", extra={"src": src, "tgt": tgt, "error": type(exc).__name__})
        return None


def draft(text: str, src: str, tgt: str) -> Translation | None:
    """A draft of content in ``tgt`` for a translator to correct; None when no model serves the pair."""
    from translation.review import draft_translation

    if not available(src, tgt):
        return None
    try:
        return draft_translation(text, src, tgt, translator=_translator())
    except TranslationError as exc:
        log.warning("portal.translation_failed", extra={"src": src, "tgt": tgt, "error": type(exc).__name__})
        return None


def back(text: str, src: str, tgt: str) -> Translation | None:
    """``text`` (written in ``tgt``) rendered back into ``src``, for checking meaning."""
    from translation.review import back_translation

    if not available(tgt, src):
        return None
    try:
        return back_translation(text, src, tgt, translator=_translator())
    except TranslationError as exc:
        log.warning("portal.translation_failed", extra={"src": src, "tgt": tgt, "error": type(exc).__name__})
        return None


def for_reader(texts: list[str], src: str, tgt: str) -> list[Translation] | None:
    """People's messages in the reader's language, never cached; None when no model serves it."""
    return _run(texts, src, tgt, cacheable=False)


def status(src: str, tgt: str) -> dict[str, Any]:
    """For templates: whether translation is possible, and for which pair."""
    return {"available": available(src, tgt), "src": src, "tgt": tgt}
