"""The content pages: create, search, side-by-side editing, SMS preview, machine help, diffs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from content.db import ContentVersion
from tests.portal.conftest import DictionaryTranslator, sqlite_only

pytestmark = sqlite_only


def test_a_curator_creates_an_item_and_sees_it_in_search(sign_in, library_in_db):
    b, _ = sign_in("curator", name="Ana")
    response = b.post(
        "/portal/content/new",
        {
            "item_id": "tips.water",
            "kind": "message",
            "source_locale": "en",
            "segment_budget": "2",
            "sms": "Drink a glass of water and rest for a minute.",
            "evidence_sources": "WHO SH+\n\nmhGAP",
            "clinical_reviewer": "Dr. K",
        },
    )
    assert response.status_code == 302 and response.location == "/portal/content/tips.water/en/1"
    page = b.get(response.location).get_data(as_text=True)
    assert "Drink a glass of water" in page and "Dr. K" in page and "WHO SH+" in page and "mhGAP" in page
    found = b.get("/portal/content/?q=GLASS OF").get_data(as_text=True)
    assert "tips.water" in found and "menu.main" not in found
    drafts = b.get("/portal/content/?status=draft&locale=en").get_data(as_text=True)
    assert "tips.water" in drafts
    duplicate = b.post(
        "/portal/content/new", {"item_id": "tips.water", "kind": "message", "source_locale": "en", "sms": "Again"}
    )
    assert "already exists" in duplicate.get_data(as_text=True)


def test_the_editor_opens_with_the_saved_provenance_filled_in(sign_in, library_in_db):
    b, _ = sign_in("curator", name="Ana")
    b.post(
        "/portal/content/new",
        {
            "item_id": "tips.rest",
            "kind": "message",
            "source_locale": "en",
            "sms": "Rest for a minute.",
            "co_design": "Youth panel, Kisumu",
            "evidence_sources": "mhGAP\nWHO SH+",
            "notes": "  Keep it short.  ",
        },
    )
    page = b.get("/portal/content/tips.rest/en/edit").get_data(as_text=True)
    assert 'name="author" value="Ana"' in page  # an empty author becomes the editor
    assert 'name="co_design" value="Youth panel, Kisumu"' in page
    assert ">mhGAP\nWHO SH+</textarea>" in page and ">Keep it short.</textarea>" in page


@pytest.mark.parametrize("item_id", ["Bad Id", "new", "x..y"])
def test_item_ids_are_checked(sign_in, library_in_db, item_id):
    b, _ = sign_in("curator")
    response = b.post(
        "/portal/content/new", {"item_id": item_id, "kind": "message", "source_locale": "en", "sms": "Hello"}
    )
    assert response.status_code == 200 and 'class="flash error"' in response.get_data(as_text=True)


def test_search_matches_words_in_any_language_and_ignores_sql_wildcards(sign_in, library_in_db):
    b, _ = sign_in("reviewer")
    page = b.get("/portal/content/?q=pumzi").get_data(as_text=True)  # Swahili for "breath"
    assert "module.breathing" in page
    assert "Nothing matches." in b.get("/portal/content/?q=%25%25zz_").get_data(as_text=True)


@pytest.mark.parametrize(
    "text, encoding, segments",
    [
        ("Habari! Tuko hapa kwa ajili yako.", "GSM-7", 1),
        ("x" * 161, "GSM-7", 2),
        ("Na\u00efve \U0001f60a", "UCS-2", 1),
        ("\u12a5\u1295\u12f4\u1275 \u1290\u1205?" * 12, "UCS-2", 2),
    ],
)
def test_the_preview_counts_segments_by_encoding(sign_in, text, encoding, segments):
    b, _ = sign_in("curator")
    data = b.client.post("/portal/content/preview", json={"text": text}, headers={"X-CSRF-Token": b.token}).json
    assert (data["encoding"], data["segments"]) == (encoding, segments)
    assert f"{segments} segment" in data["summary"]


def test_the_preview_names_what_forces_ucs2_and_fixes_curly_quotes(sign_in):
    b, _ = sign_in("curator")
    headers = {"X-CSRF-Token": b.token}
    curly = b.client.post("/portal/content/preview", json={"text": "It\u2019s ok \u2014 rest"}, headers=headers).json
    assert curly["encoding"] == "GSM-7" and curly["normalised"] is True
    emoji = b.client.post("/portal/content/preview", json={"text": "Hi \U0001f60a"}, headers=headers).json
    assert emoji["forcing_ucs2"] == ["\U0001f60a"] and emoji["encoding"] == "UCS-2"


def test_translating_shows_the_source_beside_the_text_and_says_when_no_model_is_installed(
    sign_in, library_in_db, starter_content
):
    b, _ = sign_in("curator")
    page = b.get("/portal/content/menu.main/sw/edit").get_data(as_text=True)
    source = starter_content.message("menu.main").text("en").sms
    assert 'class="side-by-side"' in page and source.split("\n")[0] in page
    assert "No translation model installed for en → sw." in page
    assert "Machine-translate a draft" not in page


def test_a_machine_draft_fills_the_editor_and_is_marked_on_the_saved_version(
    sign_in, library_in_db, starter_content, install_translator, portal_app
):
    source = starter_content.message("module.sleep.1").text("en").sms
    translator = DictionaryTranslator({("en", "sw"): {source: "Rasimu ya mashine kuhusu usingizi."}})
    install_translator(translator)
    b, _ = sign_in("curator")
    assert "Machine-translate a draft" in b.get("/portal/content/module.sleep.1/sw/edit").get_data(as_text=True)
    drafted = b.post(
        "/portal/content/module.sleep.1/sw/machine-draft", {"language_reviewer": "Bi. Amina"}
    ).get_data(as_text=True)
    assert "Rasimu ya mashine kuhusu usingizi." in drafted and "check every word" in drafted
    assert 'name="language_reviewer" value="Bi. Amina"' in drafted  # what the translator typed is kept
    assert translator.calls[0][1:] == ("en", "sw", True)  # content may be cached
    b.post("/portal/content/module.sleep.1/sw/edit", {"sms": "Rasimu iliyosahihishwa na mtu.", "origin": "machine"})
    with portal_app.extensions["tumaini.services"].db.session() as session:
        row = session.scalars(
            select(ContentVersion).where(ContentVersion.item_id == "module.sleep.1", ContentVersion.locale == "sw")
        ).one()
        assert (row.sms, row.origin, row.status) == ("Rasimu iliyosahihishwa na mtu.", "machine", "draft")
    assert "started from a machine draft" in b.get("/portal/content/module.sleep.1/sw/1").get_data(as_text=True)


def test_reviewers_see_a_back_translation_when_a_model_is_installed(
    sign_in, library_in_db, starter_content, install_translator
):
    sw = starter_content.message("menu.main").text("sw", approved_only=False).sms
    b, _ = sign_in("reviewer")
    assert "No translation model installed for this language pair." in b.get("/portal/content/menu.main/sw/1").get_data(
        as_text=True
    )
    install_translator(DictionaryTranslator({("sw", "en"): {sw: "Reply with a number (back-translated)."}}))
    page = b.get("/portal/content/menu.main/sw/1").get_data(as_text=True)
    assert "Reply with a number (back-translated)." in page and "Never sent." in page


def test_a_regional_variant_of_the_source_language_offers_no_back_translation(sign_in, library_in_db):
    b, _ = sign_in("curator")
    b.post("/portal/content/menu.main/en-KE/edit", {"sms": "Reply 1, 2 or 3, please."})
    page = b.get("/portal/content/menu.main/en-KE/1").get_data(as_text=True)
    assert "Reply 1, 2 or 3, please." in page
    assert "Back-translation" not in page and "No translation model installed" not in page


def test_history_and_word_diff_between_versions(sign_in, library_in_db, starter_content):
    b, _ = sign_in("curator")
    old = starter_content.message("menu.invalid").text("en").sms
    new = old.replace("number", "digit", 1)
    assert new != old
    b.post("/portal/content/menu.invalid/en/edit", {"sms": new})
    page = b.get("/portal/content/menu.invalid/en/diff?a=1&b=2").get_data(as_text=True)
    assert "<del>number</del><ins>digit</ins>" in page
    assert "v1 → v2" in page


def test_an_item_in_review_cannot_be_opened_for_editing(sign_in, library_in_db, portal_app):
    from tests.portal.conftest import version_id

    b, _ = sign_in("curator")
    b.post("/portal/content/menu.invalid/en/edit", {"sms": "Reply with a number."})
    b.post(f"/portal/content/version/{version_id(portal_app, 'menu.invalid', 'en', 2)}/submit")
    response = b.get("/portal/content/menu.invalid/en/edit")
    assert response.status_code == 302 and response.location == "/portal/content/menu.invalid/en/2"
    posted = b.post("/portal/content/menu.invalid/en/edit", {"sms": "Changed behind the reviewer's back"})
    assert posted.status_code == 400 and "in review" in posted.get_data(as_text=True)
