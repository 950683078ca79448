"""The review workflow: versions, frozen reviews, four eyes, reasons, checks before review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.portal import workflow
from bot.portal.errors import OwnApproval, WorkflowError
from content.db import ContentVersion, ReviewComment
from core.tables import AuditEvent
from tests.portal.conftest import sqlite_only
from tests.portal.conftest import version_id as version_id_of


def db_session(portal_app):
    return portal_app.extensions["tumaini.services"].db.session()


@pytest.fixture()
def people(make_user):
    return {
        "ana": make_user("curator", name="Ana"),
        "ben": make_user("curator", name="Ben"),
        "rev": make_user("reviewer", name="Rev"),
    }


def no_problems(_version):
    return []


def test_editing_approved_text_starts_a_new_draft_and_keeps_one_open_version(portal_app, library_in_db, people):
    with portal_app.app_context(), db_session(portal_app) as session:
        first = workflow.save_draft(session, people["ana"], "menu.main", "en", workflow.Draft(sms="Draft one"))
        second = workflow.save_draft(session, people["ben"], "menu.main", "en", workflow.Draft(sms="Draft two"))
        assert first.id == second.id and second.version == 2 and second.sms == "Draft two"
        assert second.editors == [people["ana"].id, people["ben"].id] and second.created_by == people["ana"].id
        v1 = session.scalars(
            select(ContentVersion).where(
                ContentVersion.item_id == "menu.main", ContentVersion.locale == "en", ContentVersion.version == 1
            )
        ).one()
        assert v1.status == "approved" and v1.sms != "Draft two"


def test_a_translation_draft_records_which_source_version_it_translates(portal_app, library_in_db, people):
    with portal_app.app_context(), db_session(portal_app) as session:
        draft = workflow.save_draft(session, people["ana"], "menu.main", "ha", workflow.Draft(sms="Amsa da lamba."))
        assert (draft.version, draft.source_version, draft.author, draft.status) == (1, 1, "Ana", "draft")
        starter = workflow.save_draft(session, people["ana"], "menu.main", "sw", workflow.Draft(sms="Jibu 1, 2 au 3."))
        assert starter.version == 1 and starter.origin == "library"  # the starter's sw draft, edited in place


def test_text_in_review_is_frozen_until_a_reviewer_returns_it_with_a_reason(portal_app, library_in_db, people):
    with portal_app.app_context(), db_session(portal_app) as session:
        draft = workflow.save_draft(session, people["ana"], "menu.main", "en", workflow.Draft(sms="New menu"))
        workflow.submit(session, people["ana"], draft.id, no_problems)
        with pytest.raises(WorkflowError, match="in review"):
            workflow.save_draft(session, people["ana"], "menu.main", "en", workflow.Draft(sms="Sneaky change"))
        with pytest.raises(WorkflowError, match="Say what needs to change"):
            workflow.reject(session, people["rev"], draft.id, "  ")
        workflow.reject(session, people["rev"], draft.id, "Too long for a basic phone")
        assert draft.status == "draft"
        edited = workflow.save_draft(session, people["ana"], "menu.main", "en", workflow.Draft(sms="Shorter menu"))
        assert edited.id == draft.id
        notes = session.scalars(
            select(ReviewComment).where(ReviewComment.version_id == draft.id).order_by(ReviewComment.id)
        ).all()
        assert [(n.action, n.body) for n in notes] == [("submit", ""), ("reject", "Too long for a basic phone")]


def test_nobody_approves_their_own_writing_or_edits(portal_app, library_in_db, people):
    with portal_app.app_context(), db_session(portal_app) as session:
        draft = workflow.save_draft(session, people["ana"], "menu.main", "en", workflow.Draft(sms="Menu by Ana"))
        workflow.save_draft(session, people["ben"], "menu.main", "en", workflow.Draft(sms="Menu by Ana and Ben"))
        workflow.submit(session, people["ana"], draft.id, no_problems)
        for who in ("ana", "ben"):
            with pytest.raises(OwnApproval):
                workflow.approve(session, people[who], draft.id)
        workflow.approve(session, people["rev"], draft.id, "Clear and kind")
        assert (draft.status, draft.reviewed_by) == ("approved", people["rev"].id)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "content.approve")).one()
        assert event.actor == str(people["rev"].id)
        assert event.detail == {"item": "menu.main", "locale": "en", "version": 2}


def test_only_drafts_go_to_review_and_only_reviews_get_decided(portal_app, library_in_db, people):
    with portal_app.app_context(), db_session(portal_app) as session:
        v1 = session.scalars(
            select(ContentVersion).where(ContentVersion.item_id == "menu.main", ContentVersion.locale == "en")
        ).one()
        with pytest.raises(WorkflowError):
            workflow.submit(session, people["ana"], v1.id, no_problems)
        with pytest.raises(WorkflowError):
            workflow.approve(session, people["rev"], v1.id)


def test_a_text_that_fails_the_checks_cannot_go_to_review(portal_app, library_in_db, people):
    from bot.portal.checks import blocking, problems_for

    base = portal_app.extensions["tumaini.services"].library.library
    with portal_app.app_context(), db_session(portal_app) as session:
        too_long = workflow.save_draft(
            session, people["ana"], "menu.invalid", "en", workflow.Draft(sms="Sorry, " + "that is not a choice. " * 25)
        )
        problems = blocking(problems_for(session, base, too_long))
        assert any("segments" in p and "the limit is 3" in p for p in problems)
        with pytest.raises(WorkflowError) as raised:
            workflow.submit(session, people["ana"], too_long.id, lambda v: blocking(problems_for(session, base, v)))
        assert raised.value.problems == problems
        no_helplines = workflow.save_draft(
            session, people["ana"], "crisis.immediate", "sw", workflow.Draft(sms="Tafadhali piga simu sasa.")
        )
        assert any("placeholder" in p for p in blocking(problems_for(session, base, no_helplines)))


@sqlite_only
def test_review_through_the_pages_from_draft_to_approved(portal_app, sign_in, library_in_db):
    ana, _ = sign_in("curator", name="Ana")
    rev, _ = sign_in("reviewer", name="Rev")
    saved = ana.post("/portal/content/menu.invalid/en/edit", {"sms": "Please reply with a number from the menu."})
    assert saved.status_code == 302 and saved.location == "/portal/content/menu.invalid/en/2"
    page = ana.get(saved.location).get_data(as_text=True)
    assert "1 segment" in page and "GSM-7" in page  # the preview without JavaScript
    version_id = version_id_of(portal_app, "menu.invalid", "en", 2)
    ana.post(f"/portal/content/version/{version_id}/submit")
    assert "in review" in ana.get("/portal/content/menu.invalid/en/2").get_data(as_text=True)
    own = ana.post(f"/portal/content/version/{version_id}/approve")
    assert "someone else must review it" in ana.get(own.location).get_data(as_text=True)
    rev.get("/portal/content/menu.invalid/en/2")
    rev.post(f"/portal/content/version/{version_id}/comment", {"comment": "Looks kind."})
    rev.post(f"/portal/content/version/{version_id}/approve", {"comment": "Approved for use."})
    page = rev.get("/portal/content/menu.invalid/en/2").get_data(as_text=True)
    assert "Approved for use." in page and "Looks kind." in page and "Rev" in page
    history = rev.get("/portal/content/menu.invalid/en/history").get_data(as_text=True)
    assert history.count('class="badge approved"') == 2 and "Ana" in history


@sqlite_only
def test_submitting_an_over_long_text_shows_the_editor_what_to_fix(sign_in, library_in_db, portal_app):
    ana, _ = sign_in("curator")
    ana.post("/portal/content/menu.invalid/en/edit", {"sms": "Sorry, " + "that is not a choice. " * 25})
    page = ana.get("/portal/content/menu.invalid/en/2").get_data(as_text=True)
    assert "the limit is 3" in page and "4 segments" in page
    version_id = version_id_of(portal_app, "menu.invalid", "en", 2)
    response = ana.post(f"/portal/content/version/{version_id}/submit")
    page = ana.get(response.location).get_data(as_text=True)
    assert "Fix these problems before sending the text to review." in page and "the limit is 3" in page
    assert 'class="badge draft"' in page


def test_crisis_text_is_approved_only_with_a_clinical_sign_off_and_its_last_version_stays(
    portal_app, library_in_db, people
):
    from bot.portal.errors import NotPermitted

    with portal_app.app_context(), db_session(portal_app) as session:
        first = session.scalars(select(ContentVersion).where(
            ContentVersion.item_id == "crisis.immediate", ContentVersion.locale == "en",
            ContentVersion.status == "approved")).one()
        with pytest.raises(WorkflowError, match="last approved version of a crisis message"):
            workflow.retire(session, people["ana"], first.id, "old wording")
        draft = workflow.save_draft(session, people["ana"], "crisis.immediate", "en",
                                    workflow.Draft(sms="We are worried about you. Please contact:\n{helplines}"))
        workflow.submit(session, people["ana"], draft.id, no_problems)
        with pytest.raises(NotPermitted):  # a curator reviews ordinary text, never crisis text
            workflow.approve(session, people["ben"], draft.id)
        workflow.approve(session, people["rev"], draft.id, "Clinically sound.")
        assert draft.status == "approved" and draft.clinical_reviewer.startswith("Rev (")
        workflow.retire(session, people["ana"], first.id, "replaced")  # the new version carries it now
        with pytest.raises(WorkflowError, match="last approved version of a crisis message"):
            workflow.retire(session, people["ana"], draft.id)
        ordinary = workflow.save_draft(session, people["ana"], "menu.main", "en", workflow.Draft(sms="Menu"))
        workflow.submit(session, people["ana"], ordinary.id, no_problems)
        workflow.approve(session, people["ben"], ordinary.id)  # ordinary text: any other curator
