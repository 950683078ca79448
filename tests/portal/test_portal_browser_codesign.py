"""A real browser through co-design: a round's workbook goes to an offline session and back, and a
lived-experience reviewer answers a comment and signs off on a phone-sized screen.

Headless Chromium (Debian's package) driven by Playwright against the app on a loopback port.
Screenshots of the readiness page and of a text's review page at 360 px are saved under
test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from content.db import ReviewComment
from content.review import SignOff
from tests.portal.conftest import sqlite_only
from tests.portal.test_portal_browser_flow import Page, chromium, served  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, sqlite_only]


def test_a_round_goes_to_an_offline_session_and_back_and_a_peer_signs_off_on_a_phone(
    portal_app,
    library_in_db,
    make_user,
    served,  # noqa: F811
    chromium,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import expect

    curator = make_user("curator", name="Kito Curator")
    peer = make_user("lived_experience", name="Mama Achieng")
    database = portal_app.extensions["tumaini.services"].db

    kito = Page(chromium, served)
    kito.sign_in(curator.email)
    kito.go("/portal/review/")
    kito.page.fill("input[name=locale]", "sw")
    kito.page.fill("input[name=title]", "Kisumu women's group")
    kito.page.click("text=Open round")
    expect(kito.page.locator("h1")).to_contain_text("Kisumu women's group")
    round_path = kito.page.url.removeprefix(served)

    with kito.page.expect_download() as download:
        kito.page.click("text=Download the workbook (XLSX)")
    saved = tmp_path / "round.xlsx"
    download.value.save_as(saved)
    workbook = load_workbook(saved)
    sheet = workbook["review"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "menu.main")
    sheet.cell(row, header.index("comment") + 1, "Sema 'mawazo mengi' badala ya 'msongo'.")
    sheet.cell(row, header.index("commenter") + 1, "Kikundi cha wanawake, Kisumu")
    sheet.cell(row, header.index("suggested_sms") + 1, "Ungependa tuzungumze kuhusu nini? Jibu kwa namba:\n{menu}")
    reviewed = tmp_path / "reviewed.xlsx"
    workbook.save(reviewed)
    kito.page.set_input_files("input[name=workbook]", str(reviewed))
    kito.page.click("text=Import comments and sign-offs")
    expect(kito.page.locator(".flash.ok")).to_contain_text("Imported: 2 comment(s), 0 sign-off(s), 1 suggested")

    achieng = Page(chromium, served)
    achieng.sign_in(peer.email)
    assert "Cases" not in achieng.page.locator("nav").inner_text()
    achieng.go("/portal/review/readiness/sw")
    expect(achieng.page.locator("#blockers")).to_contain_text("Crisis messages without approved text")
    achieng.shot("portal-readiness-360.png")
    achieng.go(round_path)
    achieng.page.click("text=menu.main")
    expect(achieng.page.locator("#comments")).to_contain_text("Kikundi cha wanawake, Kisumu")
    first = achieng.page.locator("#comments li.depth-0").first
    first.locator("summary").click()
    first.locator("textarea[name=comment]").fill("Ndiyo, tumelijadili pamoja.")
    first.locator("button", has_text="Answer").click()
    expect(achieng.page.locator("#comments li.depth-1")).to_contain_text("Ndiyo, tumelijadili pamoja.")
    achieng.page.click("text=Sign off: Lived-experience review")
    expect(achieng.page.locator("#signoffs")).to_contain_text("Mama Achieng")
    path = achieng.shot("portal-review-comments-360.png")
    assert path.stat().st_size > 5000
    for tab in (kito, achieng):
        assert not [e for e in tab.errors if "Content Security Policy" in e or "Uncaught" in e], tab.errors

    with database.session() as session:
        answers = session.scalars(select(ReviewComment).where(ReviewComment.parent_id.is_not(None))).all()
        assert [(a.body, a.author_id) for a in answers] == [("Ndiyo, tumelijadili pamoja.", peer.id)]
        assert [(s.kind, s.signer) for s in session.scalars(select(SignOff))] == [("lived_experience", "Mama Achieng")]
        kept = session.scalars(select(ReviewComment.body).where(ReviewComment.body.contains("replaced"))).one()
        assert kept.endswith("Ungependa msaada kuhusu nini? Jibu kwa namba:\n{menu}")  # the draft it replaced
    assert Path(path).name == "portal-review-comments-360.png"
