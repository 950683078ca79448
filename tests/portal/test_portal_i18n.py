"""The portal in the staff member's language, with right-to-left layout where the script needs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.portal.i18n import LANGUAGES, TRANSLATIONS, catalog_paths, compile_catalog
from tests.portal.conftest import Browser, sqlite_only

PORTAL = Path(__file__).resolve().parents[2] / "bot" / "portal"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def source_messages() -> set[object]:
    """Every string the portal's code and templates mark for translation."""
    found: set[object] = set()
    for method, pattern in [("python", "**.py"), ("jinja2", "templates/**.html")]:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PORTAL), method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message)
    return found


def read_catalog(lang: str):
    po_path, _mo = catalog_paths(lang)
    with po_path.open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_portal_string_is_translated(lang):
    catalog = read_catalog(lang)
    translated = {
        m.id if isinstance(m.id, str) else tuple(m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = {m for m in source_messages() if m not in translated}
    assert not missing, f"{lang}: untranslated {sorted(map(str, missing))[:5]}"
    assert not list(catalog.check()), f"{lang}: a translation breaks a %(placeholder)s"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_committed_mo_files_match_the_po_files(lang, tmp_path):
    po_path, mo_path = catalog_paths(lang)
    compile_catalog(po_path, tmp_path / "fresh.mo")
    assert (tmp_path / "fresh.mo").read_bytes() == mo_path.read_bytes(), (
        f"run: python -c 'from bot.portal.i18n import compile_catalogs; compile_catalogs()' ({lang} is stale)"
    )


def test_every_language_on_offer_has_a_catalog():
    assert {p.name for p in TRANSLATIONS.iterdir() if p.is_dir()} == set(TRANSLATED)


@sqlite_only
def test_a_swahili_speaking_health_worker_gets_the_portal_in_swahili(sign_in):
    b, _ = sign_in("health_worker", locale="sw")
    page = b.get("/portal/").get_data(as_text=True)
    assert '<html lang="sw" dir="ltr">' in page
    assert "Kesi zilizo wazi" in page and "Toka" in page and "Open cases" not in page


@sqlite_only
def test_arabic_pages_are_laid_out_right_to_left_and_people_text_finds_its_own_direction(sign_in, make_case):
    _person, case = make_case(inbound="Hello, I need help")
    b, _ = sign_in("health_worker", locale="ar")
    page = b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page and "الحالات" in page
    assert '<div class="body" dir="auto" lang="en">Hello, I need help</div>' in page


@sqlite_only
def test_the_sign_in_page_follows_the_browser_language_and_the_chosen_one(portal_client):
    b = Browser(portal_client)
    french = b.get("/portal/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "Se connecter" in french and '<html lang="fr"' in french
    b.post("/portal/language", {"lang": "es", "next": "/portal/login"})
    spanish = b.get("/portal/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Iniciar sesión" in spanish


@sqlite_only
def test_changing_language_is_remembered_on_the_account(portal_app, sign_in):
    from bot.portal.models import User

    b, user = sign_in("curator")
    b.post("/portal/language", {"lang": "sw", "next": "/portal/content/"})
    with portal_app.extensions["tumaini.services"].db.session() as session:
        assert session.get(User, user.id).locale == "sw"
    again = Browser(portal_app.test_client())
    again.login(user.email)
    assert "Maudhui" in again.get("/portal/").get_data(as_text=True)


@sqlite_only
def test_error_messages_from_the_workflow_are_translated_too(sign_in, library_in_db):
    b, _ = sign_in("curator", locale="fr")
    page = b.post(
        "/portal/content/new", {"item_id": "Not Valid", "kind": "message", "source_locale": "en", "sms": "x"}
    ).get_data(as_text=True)
    assert "Un identifiant est fait de mots en minuscules" in page
