"""Communities own their words: the lived-experience role, review rounds with threaded comments,
sign-offs, the readiness of each locale, and the round workbook for offline sessions."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.portal import workflow
from bot.portal.models import User
from content import readiness
from content.db import ContentVersion, ReviewComment
from content.review import SignOff
from core.tables import AuditEvent
from tests.portal.conftest import sqlite_only
from tests.portal.conftest import version_id as version_id_of


def db_session(portal_app):
    return portal_app.extensions["tumaini.services"].db.session()


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def approve_sw(portal_app, make_user, item_id: str) -> int:
    """Write and approve a Swahili text through the workflow (a curator writes, a reviewer approves)."""
    writer, checker = make_user("curator"), make_user("reviewer")
    with db_session(portal_app) as session, portal_app.app_context():
        draft = workflow.save_draft(
            session, session.get(User, writer.id), item_id, "sw", workflow.Draft(sms=f"Maandishi ya {item_id}")
        )
        workflow.submit(session, session.get(User, writer.id), draft.id, check=lambda _v: [])
        workflow.approve(session, session.get(User, checker.id), draft.id)
        return draft.id


@sqlite_only
def test_a_lived_experience_reviewer_comments_and_signs_off_but_approves_nothing_and_reads_no_conversation(
    portal_app, library_in_db, sign_in, make_case, make_user
):
    _person, case = make_case(inbound="words only health workers may read")
    vid = approve_sw(portal_app, make_user, "menu.main")
    b, me = sign_in("lived_experience", name="Mama Achieng")
    assert "lived-experience reviewer" in page_of(b.get("/portal/"))
    cases = b.get(f"/portal/cases/{case.id}")
    assert cases.status_code == 403 and "words only health workers" not in cases.get_data(as_text=True)

    where = "/portal/content/menu.main/sw/1"  # the starter draft, edited in place
    page = page_of(b.get(where))
    assert "Sign off: Lived-experience review" in page
    assert "Sign off: Clinical review" not in page and "Sign off: Language review" not in page
    assert b.post(f"/portal/review/version/{vid}/signoff", {"kind": "clinical"}).status_code == 403
    assert b.post(f"/portal/content/version/{vid}/retire", {"comment": ""}).status_code in (302, 403)

    b.post(f"/portal/content/version/{vid}/comment", {"comment": "Tusiseme 'wagonjwa'; sema 'watu'."})
    b.post(f"/portal/review/version/{vid}/signoff", {"kind": "lived_experience", "note": "Kikundi cha Kisumu"})
    page = page_of(b.get(where))
    assert "Tusiseme &#39;wagonjwa&#39;" in page and "Mama Achieng" in page
    signoffs = page.split('id="signoffs"', 1)[1].split("</section>", 1)[0]
    assert "Lived-experience review: <strong><bdi>Mama Achieng</bdi></strong>" in signoffs
    with db_session(portal_app) as session:
        version = session.get(ContentVersion, vid)
        assert version.status == "approved" and version.reviewed_by != me.id
        assert [(s.kind, s.signer, s.recorded_by) for s in session.scalars(select(SignOff))] == [
            ("lived_experience", "Mama Achieng", me.id)
        ]
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "content.signoff"))


@sqlite_only
def test_comments_are_threaded_and_show_who_said_what_and_when(portal_app, library_in_db, sign_in):
    rev, _ = sign_in("reviewer", name="Rehema")
    cur, _ = sign_in("curator", name="Kito")
    vid = version_id_of(portal_app, "menu.main", "sw", 1)
    rev.post(f"/portal/content/version/{vid}/comment", {"comment": "Neno 'msongo' ni gumu kwa wazee."})
    with db_session(portal_app) as session:
        first = session.scalars(select(ReviewComment.id).where(ReviewComment.version_id == vid)).one()
    cur.post(f"/portal/content/version/{vid}/comment", {"comment": "Tutumie 'mawazo mengi'?", "parent_id": first})
    rev.post(f"/portal/content/version/{vid}/comment", {"comment": "Ndiyo, bora zaidi.", "parent_id": first + 1})
    bad = cur.post(f"/portal/content/version/{vid}/comment", {"comment": "lost?", "parent_id": 999999})
    assert bad.status_code == 302
    page = page_of(cur.get("/portal/content/menu.main/sw/1"))
    section = page.split('id="comments"', 1)[1]
    order = [m.group(1) for m in re.finditer(r'<li class="depth-(\d)" id="comment-\d+">', section)]
    assert order == ["0", "1", "2"]
    assert section.index("Rehema") < section.index("Kito") < section.index("Ndiyo, bora")
    assert f'answering <a href="#comment-{first}">' in section and "<time" in section
    assert "lost?" not in section


@sqlite_only
def test_a_review_round_collects_the_locales_comments_and_is_closed_by_a_curator(portal_app, library_in_db, sign_in):
    cur, _ = sign_in("curator")
    peer, _ = sign_in("lived_experience")
    assert peer.post("/portal/review/rounds", {"locale": "sw"}).status_code == 403
    opened = cur.post("/portal/review/rounds", {"locale": "sw", "title": "Kisumu, December"})
    round_url = opened.headers["Location"]
    assert "Kisumu, December" in page_of(cur.get(round_url))
    again = cur.post("/portal/review/rounds", {"locale": "sw"})
    assert again.status_code == 302 and "already open" in page_of(cur.get(again.headers["Location"]))
    vid = version_id_of(portal_app, "menu.main", "sw", 1)
    peer.post(f"/portal/content/version/{vid}/comment", {"comment": "Fupi zaidi, tafadhali."})
    table = page_of(peer.get(round_url)).split('id="round-texts"', 1)[1]
    row = table.split("<code>menu.main</code>", 1)[1].split("</tr>", 1)[0]
    assert "<td>1</td>" in row  # one comment in this round
    with db_session(portal_app) as session:
        assert session.scalars(select(ReviewComment.round_id).where(ReviewComment.version_id == vid)).one()
    cur.post(round_url + "/close")
    assert "closed" in page_of(cur.get(round_url))


@sqlite_only
def test_the_readiness_page_shows_coverage_waiting_drafts_missing_signoffs_and_blockers(
    portal_app, library_in_db, sign_in, make_user
):
    vid = approve_sw(portal_app, make_user, "menu.main")
    b, _ = sign_in("reviewer")
    with db_session(portal_app) as session:
        library = readiness.served_library(session, portal_app.extensions["tumaini.services"].library.library)
        before = readiness.assess(session, library, "sw")
    assert "menu.main" in before.covered and before.total > len(before.covered) > 0
    assert "menu.main" in before.unsigned["language"] and "menu.main" in before.unsigned["lived_experience"]
    assert any(w.item_id == "menu.invalid" and w.status == "draft" for w in before.waiting)
    assert "crisis.suicide" in before.unapproved_crisis or before.unapproved_crisis
    page = page_of(b.get("/portal/review/readiness/sw"))
    assert f'<strong id="coverage">{before.coverage}%</strong>' in page
    blockers = page.split('id="blockers"', 1)[1].split("</section>", 1)[0]
    assert "Crisis messages without approved text in this language" in blockers
    assert "messages have no approved text here, so people would get them in another language" in blockers
    # menu.main and the Swahili starter texts outside the database ("pending" reviewers) lack it
    assert re.search(r"\d+ approved messages lack: Language review", blockers)

    b.post(f"/portal/review/version/{vid}/signoff", {"kind": "language"})
    with db_session(portal_app) as session:
        after = readiness.assess(session, library, "sw")
    assert "menu.main" not in after.unsigned.get("language", [])
    # English starter text names no reviewer ("pending"), so it is not signed off either
    with db_session(portal_app) as session:
        english = readiness.assess(session, library, "en")
    assert english.coverage == 100.0 and english.unsigned["clinical"] and not english.ready


@sqlite_only
def test_a_signoff_counts_only_for_the_wording_it_saw(portal_app, library_in_db, make_user):
    from bot.portal import rounds

    writer, peer = make_user("admin"), make_user("lived_experience")  # an admin may sign off, but not own text
    with db_session(portal_app) as session, portal_app.app_context():
        draft = workflow.save_draft(
            session, session.get(User, writer.id), "menu.main", "sw", workflow.Draft(sms="Chagua namba.")
        )
        record = rounds.sign_off(session, session.get(User, peer.id), draft.id, "lived_experience")
        assert rounds.still_valid(record, draft)
        workflow.save_draft(session, session.get(User, writer.id), "menu.main", "sw", workflow.Draft(sms="Jibu 1."))
        assert not rounds.still_valid(record, draft)
        with pytest.raises(Exception, match="wrote or edited"):
            rounds.sign_off(session, session.get(User, writer.id), draft.id, "lived_experience")


# -- the round workbook -------------------------------------------------------------------


def _download(b, round_url: str):
    response = b.client.get(round_url + "/workbook.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def _rows(workbook) -> tuple[list[str], dict[str, int]]:
    sheet = workbook["review"]
    header = [c.value for c in sheet[1]]
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    return header, rows


def _fill(workbook, item_id: str, **values: str) -> None:
    header, rows = _rows(workbook)
    for name, value in values.items():
        workbook["review"].cell(rows[item_id], header.index(name) + 1, value)


def _upload(b, round_url: str, workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return b.post(
        round_url + "/workbook",
        {"workbook": (io.BytesIO(buffer.getvalue()), "reviewed.xlsx")},
        content_type="multipart/form-data",
    )


@sqlite_only
def test_an_offline_session_round_trips_comments_signoffs_and_wording_through_the_workbook(
    portal_app, library_in_db, sign_in
):
    cur, curator = sign_in("curator", name="Kito")
    opened = cur.post("/portal/review/rounds", {"locale": "sw", "title": "Kikao cha Kisumu"})
    round_url = opened.headers["Location"]
    vid = version_id_of(portal_app, "menu.main", "sw", 1)
    cur.post(f"/portal/content/version/{vid}/comment", {"comment": "Je, 'menyu' inaeleweka?"})
    with db_session(portal_app) as session:
        asked = session.scalars(select(ReviewComment.id).where(ReviewComment.version_id == vid)).one()

    workbook = _download(cur, round_url)
    header, rows = _rows(workbook)
    sheet = workbook["review"]
    assert {"comment", "commenter", "answer_to", "lived_experience_signoff", "suggested_sms"} <= set(header)
    row = {h: sheet.cell(rows["menu.main"], i + 1).value for i, h in enumerate(header)}
    assert row["locale"] == "sw" and row["status"] == "draft" and f"#{asked} Kito" in row["comments_so_far"]
    assert row["source_sms"].startswith("What would you like help with?")
    assert workbook["about"]["B1"].value == int(round_url.rsplit("/", 1)[1])

    peer, _ = sign_in("lived_experience", name="Peer facilitator")
    _fill(
        workbook,
        "menu.main",
        comment="Ndiyo, 'menyu' inaeleweka.",
        commenter="Kikundi cha wanawake",
        answer_to=f"#{asked}",
        lived_experience_signoff="yes",
    )
    _fill(
        workbook,
        "menu.invalid",
        comment="Ongeza 'tafadhali'.",
        commenter="Baba Otieno",
        suggested_sms="Samahani, tafadhali jibu kwa namba kutoka kwenye menyu.",
    )
    response = _upload(peer, round_url, workbook)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert "Imported: 3 comment(s), 1 sign-off(s), 0 suggested" in page_of(peer.get(round_url))
    invalid = version_id_of(portal_app, "menu.invalid", "sw", 1)

    with db_session(portal_app) as session:
        answer = session.scalars(select(ReviewComment).where(ReviewComment.parent_id == asked)).one()
        assert (answer.author_name, answer.body, answer.source) == (
            "Kikundi cha wanawake",
            "Ndiyo, 'menyu' inaeleweka.",
            "sheet",
        )
        signoff = session.scalars(select(SignOff)).one()
        assert (signoff.kind, signoff.signer, signoff.source) == ("lived_experience", "Kikundi cha wanawake", "sheet")
        notes = [c.body for c in session.scalars(select(ReviewComment).where(ReviewComment.version_id == invalid))]
        assert "Ongeza 'tafadhali'." in notes
        assert any(n.startswith("Suggested wording:\n") and "tafadhali jibu" in n for n in notes)
        assert session.get(ContentVersion, invalid).sms != "Samahani, tafadhali jibu kwa namba kutoka kwenye menyu."

    # the curator imports the same workbook: nothing is doubled; the suggestion becomes a draft
    response = _upload(cur, round_url, workbook)
    assert response.status_code == 400  # a curator may not record a lived-experience sign-off
    assert "lived_experience_signoff" in response.get_data(as_text=True)
    _fill(workbook, "menu.main", lived_experience_signoff="")
    assert _upload(cur, round_url, workbook).status_code == 302
    with db_session(portal_app) as session:
        assert session.scalars(select(ReviewComment.id).where(ReviewComment.parent_id == asked)).all() == [answer.id]
        drafts = session.scalars(
            select(ContentVersion).where(ContentVersion.item_id == "menu.invalid", ContentVersion.locale == "sw")
        ).all()
        assert [(v.status, v.sms) for v in drafts] == [
            ("draft", "Samahani, tafadhali jibu kwa namba kutoka kwenye menyu.")
        ]
        assert curator.id in drafts[0].editors
        assert not session.scalars(
            select(ContentVersion).where(ContentVersion.status == "approved", ContentVersion.locale == "sw")
        ).all()


@sqlite_only
def test_a_workbook_with_bad_rows_is_refused_row_by_row_and_nothing_is_imported(portal_app, library_in_db, sign_in):
    cur, _ = sign_in("curator")
    round_url = cur.post("/portal/review/rounds", {"locale": "sw"}).headers["Location"]
    workbook = _download(cur, round_url)
    header, rows = _rows(workbook)
    _fill(workbook, "menu.main", status="approved", comment="Safi!")
    _fill(workbook, "menu.invalid", sms="Maneno mapya moja kwa moja.", comment="Nimebadilisha")
    _fill(workbook, "onboarding.welcome", answer_to="#999999", comment="Jibu")
    _fill(workbook, "onboarding.consent", comment="Sawa", commenter="Amina")
    sheet = workbook["review"]
    sheet.cell(sheet.max_row + 1, 1, "menu.nothing")
    sheet.cell(sheet.max_row, 2, "sw")
    sheet.cell(sheet.max_row, 3, 1)
    sheet.cell(sheet.max_row, header.index("comment") + 1, "Lost?")
    response = _upload(cur, round_url, workbook)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    problems = page.split('class="problems"', 1)[1].split("</ul>", 1)[0]
    assert f"row {rows['menu.main']} (menu.main): the status is read-only" in problems
    assert f"row {rows['menu.invalid']} (menu.invalid): the sms differs" in problems
    assert f"row {rows['onboarding.welcome']} (onboarding.welcome): comment #999999 is not on this text" in problems
    assert "(menu.nothing): there is no text menu.nothing v1 in sw" in problems
    assert "onboarding.consent" not in problems
    with db_session(portal_app) as session:
        assert session.scalars(select(ReviewComment).where(ReviewComment.source == "sheet")).all() == []

    other = _download(cur, round_url)
    cur.post(round_url + "/close")
    fresh = cur.post("/portal/review/rounds", {"locale": "sw"}).headers["Location"]
    wrong = _upload(cur, fresh, other)
    assert wrong.status_code == 400 and "belongs to another review round" in wrong.get_data(as_text=True)
    broken = cur.post(
        fresh + "/workbook",
        {"workbook": (io.BytesIO(b"id,locale\nmenu.main,sw\n"), "notes.xlsx")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 400 and "not a review round workbook" in broken.get_data(as_text=True)


@sqlite_only
def test_arabic_text_and_its_sms_preview_read_right_to_left_whatever_the_page_language(portal_app, library_in_db,
                                                                                      sign_in):
    b, _ = sign_in("curator")
    page = page_of(b.get("/portal/content/menu.main/ar/1"))
    assert '<div class="body" dir="rtl" lang="ar" id="sms-body">' in page
    assert '<div class="body" dir="ltr" lang="en">' in page  # the English source beside it stays left to right
    edit = page_of(b.get("/portal/content/menu.main/ar/edit"))
    assert 'id="sms" name="sms" rows="6" dir="rtl" lang="ar"' in edit
