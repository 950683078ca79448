"""Content in the database: ``content load``, and the store workers serve from it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.portal import workflow
from content.db import ContentVersion, DbContentSource, has_content, store_from_db
from content.errors import ContentNotApproved
from tests.portal.conftest import sqlite_only


def session_of(portal_app):
    return portal_app.extensions["tumaini.services"].db.session()


def test_content_load_copies_the_library_once_and_keeps_database_edits(portal_app, starter_content):
    runner = portal_app.test_cli_runner()
    first = runner.invoke(args=["content", "load"])
    assert first.exit_code == 0, first.output
    texts = sum(len(m.texts) for m in starter_content.library.messages)
    assert f"{len(starter_content.library.messages)} new item(s) and {texts} new version(s)" in first.output
    with session_of(portal_app) as session:
        session.execute(
            update(ContentVersion)
            .where(ContentVersion.item_id == "menu.main", ContentVersion.locale == "en")
            .values(sms="Edited in the portal")
        )
    again = runner.invoke(args=["content", "load"])
    assert again.exit_code == 0, again.output
    assert f"loaded 0 new item(s) and 0 new version(s); kept {texts} version(s)" in again.output
    assert "kept the database's menu.main/en@1" in again.output
    with session_of(portal_app) as session:
        assert (
            session.scalar(
                select(ContentVersion.sms).where(ContentVersion.item_id == "menu.main", ContentVersion.locale == "en")
            )
            == "Edited in the portal"
        )
        assert session.scalar(select(ContentVersion.origin).limit(1)) == "library"


@sqlite_only
def test_content_load_refuses_an_invalid_library(portal_app, tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "messages.yaml").write_text(
        "kind: messages\ndefaults:\n  status: approved\n  provenance:\n    author: x\nmessages:\n  hello: Hi\n",
        encoding="utf-8",
    )  # loads, but lacks the messages the engine sends
    result = portal_app.test_cli_runner().invoke(args=["content", "load", str(tmp_path)])
    assert result.exit_code == 1 and "nothing loaded" in result.output
    assert "onboarding.welcome" in result.output
    with session_of(portal_app) as session:
        assert not has_content(session)


@sqlite_only
def test_an_empty_database_leaves_the_worker_on_the_yaml_library(portal_app, starter_content):
    with session_of(portal_app) as session:
        assert store_from_db(session, starter_content.library) is None


def test_the_database_store_serves_what_the_yaml_store_serves(portal_app, starter_content, library_in_db):
    with session_of(portal_app) as session:
        store = store_from_db(session, starter_content.library)
    # (Swahili is loaded as drafts under review: see library_in_db.)
    for item, locale in [("menu.main", "en"), ("onboarding.welcome", "hi"), ("crisis.immediate", "fr")]:
        assert store.render(item, locale, "sms", {"helplines": "X", "menu": "1"}) == starter_content.render(
            item, locale, "sms", {"helplines": "X", "menu": "1"}
        )
    assert [e.module_id for e in store.menu("en")] == [e.module_id for e in starter_content.menu("en")]


def test_an_approved_new_version_is_served_and_a_draft_never_is(portal_app, starter_content, library_in_db, make_user):
    writer, reviewer = make_user("curator"), make_user("reviewer")
    with portal_app.app_context(), session_of(portal_app) as session:
        v2 = workflow.save_draft(session, writer, "module.sleep.1", "en", workflow.Draft(sms="Sleep well: v2."))
        workflow.create_item(session, writer, "tips.new", "message", "en", None, workflow.Draft(sms="Just a draft"))
    with session_of(portal_app) as session:
        store = store_from_db(session, starter_content.library)
    assert store.render("module.sleep.1", "en", "sms").ref == "module.sleep.1@1"
    with pytest.raises(ContentNotApproved):
        store.render("tips.new", "en", "sms")
    with portal_app.app_context(), session_of(portal_app) as session:
        workflow.submit(session, writer, v2.id, check=lambda _v: [])
        workflow.approve(session, reviewer, v2.id)
    with session_of(portal_app) as session:
        rendered = store_from_db(session, starter_content.library).render("module.sleep.1", "en", "sms")
    assert (rendered.text, rendered.ref) == ("Sleep well: v2.", "module.sleep.1@2")


def test_retiring_the_newest_approved_version_brings_back_the_one_before(
    portal_app, starter_content, library_in_db, make_user
):
    writer, reviewer = make_user("curator"), make_user("reviewer")
    with portal_app.app_context(), session_of(portal_app) as session:
        v2 = workflow.save_draft(session, writer, "menu.invalid", "en", workflow.Draft(sms="Try a number."))
        workflow.submit(session, writer, v2.id, check=lambda _v: [])
        workflow.approve(session, reviewer, v2.id)
        workflow.retire(session, writer, v2.id, "wrong tone")
    with session_of(portal_app) as session:
        assert (
            store_from_db(session, starter_content.library).render("menu.invalid", "en", "sms").ref == "menu.invalid@1"
        )


def test_the_worker_source_rebuilds_only_after_a_change(portal_app, starter_content, library_in_db, make_user):
    source = DbContentSource(starter_content.library)
    with session_of(portal_app) as session:
        first = source.current(session)
        assert source.current(session) is first
    writer = make_user("curator")
    with portal_app.app_context(), session_of(portal_app) as session:
        workflow.save_draft(session, writer, "menu.main", "sw", workflow.Draft(sms="Jibu namba."))
    with session_of(portal_app) as session:
        second = source.current(session)
    assert second is not first and second.message("menu.main").text("sw", approved_only=False).sms == "Jibu namba."
