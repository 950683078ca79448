"""The Flask edge of translation: one translator per web app, built on first use.

The worker builds its own with ``build_translator`` and never loads Flask; the portal
and the ``flask --app bot translate`` commands come through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app

from translation.base import Translator
from translation.build import build_translator
from translation.cache import TranslationCache

EXTENSION_KEY = "tumaini.translator"


def app_translator(app: Any = None, cache: TranslationCache | None = None) -> Translator:
    """The app's translator, built from its config (MODELS_DIR etc.) the first time it is asked for.

    ``cache`` (approved content only is ever cached) is used when the translator is built.
    """
    if app is None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    translator: Translator | None = app.extensions.get(EXTENSION_KEY)
    if translator is None:
        translator = build_translator(Path(app.config["MODELS_DIR"]), app.config, cache=cache)
        app.extensions[EXTENSION_KEY] = translator
    return translator
