"""The portal's own language: Babel catalogs, the choice of language, and text direction.

Staff read the portal in their language (their account setting, else what they chose on
the sign-in page, else their browser's preference). Catalogs are committed both as .po
(what translators edit) and compiled .mo (what runs); ``compile_catalogs`` rebuilds the
.mo files and the tests check they are in step. Arabic pages are laid out right to left;
text people wrote carries ``dir="auto"`` in the templates whatever the page direction.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "portal"
LANGUAGES = {"en": "English", "sw": "Kiswahili", "fr": "Français", "es": "Español", "ar": "العربية"}
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "dv", "yi"})


def select_locale() -> str:
    if not has_request_context():
        return "en"  # the CLI speaks English
    user = g.get("portal_user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def direction(language: str) -> str:
    """ "rtl" for right-to-left scripts, else "ltr" (for the html element's dir)."""
    return "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr"


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with the portal's catalogs (other rooms' pages are not translated)."""
    Babel(app, locale_selector=select_locale, default_domain=DOMAIN, default_translation_directories=str(TRANSLATIONS))


def catalog_paths(language: str, root: Path = TRANSLATIONS) -> tuple[Path, Path]:
    folder = root / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def compile_catalog(po_path: Path, mo_path: Path) -> int:
    """Compile one .po into .mo; returns the number of translated messages."""
    with po_path.open("rb") as handle:
        catalog = read_po(handle, domain=DOMAIN)
    with mo_path.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return sum(1 for message in catalog if message.id and message.string)


def compile_catalogs(root: Path = TRANSLATIONS) -> dict[str, int]:
    """Compile every language's catalog under ``root``: language -> translated messages."""
    counts = {}
    for language in sorted(p.name for p in root.iterdir() if p.is_dir()):
        po_path, mo_path = catalog_paths(language, root)
        if po_path.is_file():
            counts[language] = compile_catalog(po_path, mo_path)
    return counts
