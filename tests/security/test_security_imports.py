"""A spreadsheet or YAML import cannot approve its own content: through `flask --app bot content
import` on the real app, its accounts and its audit trail."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import create_app
from content.cli import DEFAULT_CONTENT_DIR
from content.store import ContentStore
from core.tables import AuditEvent
from tests.portal.conftest import PASSWORD

NEW_WORDING = "If you might act on thoughts of suicide, call now: {helplines}"


@pytest.fixture()
def lead_app(config, tmp_path):
    library = tmp_path / "library"
    shutil.copytree(DEFAULT_CONTENT_DIR, library)
    app = create_app(replace(config, CONTENT_DIR=str(library)))
    import bot.portal

    if "portal" not in app.blueprints:
        bot.portal.init_app(app)
    from bot.portal.accounts import create_user

    services = app.extensions["tumaini.services"]
    with app.app_context(), services.db.session() as session:
        create_user(session, "admin@example.org", PASSWORD, "admin")
        create_user(session, "curator@example.org", PASSWORD, "curator")
    yield app, library
    services.close()


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["content", *args])


def _crisis_sheet(app, tmp_path: Path) -> Path:
    """The English texts exported, with the crisis reply reworded and marked approved."""
    sheet = tmp_path / "en.csv"
    assert _cli(app, "export", str(sheet), "--locale", "en").exit_code == 0
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["id"] == "crisis.immediate":
            row.update(sms=NEW_WORDING, status="approved", clinical_reviewer="Dr Nobody")
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return sheet


def _served(library: Path) -> str:
    return ContentStore.from_library(library).render("crisis.immediate", "en", "sms", {"helplines": "X"}).text


def _audited(app) -> list[AuditEvent]:
    with app.extensions["tumaini.services"].db.session() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == "content.imported_as_written")).all()


def test_an_imported_approval_is_held_for_review_and_the_approved_text_keeps_serving(lead_app, tmp_path):
    app, library = lead_app
    before = _served(library)
    result = _cli(app, "import", str(_crisis_sheet(app, tmp_path)))
    assert result.exit_code == 0, result.output
    assert "held for review" in result.output and "crisis.immediate/en@2" in result.output
    assert _served(library) == before, "the crisis reply people get is still the approved one"
    held = ContentStore.from_library(library).library
    text = next(m for m in held.messages if m.id == "crisis.immediate").text("en", approved_only=False)
    assert (text.version, text.status.value, text.sms) == (2, "in_review", NEW_WORDING)
    assert _audited(app) == []


def test_only_an_admin_imports_approvals_and_it_is_audited(lead_app, tmp_path):
    app, library = lead_app
    sheet = _crisis_sheet(app, tmp_path)
    before = _served(library)
    refused = _cli(app, "import", str(sheet), "--approved-by", "curator@example.org")
    assert refused.exit_code == 1 and "not an active admin" in refused.output
    assert _served(library) == before and _audited(app) == []
    done = _cli(app, "import", str(sheet), "--approved-by", "admin@example.org")
    assert done.exit_code == 0, done.output
    assert _served(library) == NEW_WORDING.replace("{helplines}", "X")
    [event] = _audited(app)
    with app.extensions["tumaini.services"].db.session() as session:
        from bot.portal.models import User

        admin = session.scalars(select(User).where(User.email == "admin@example.org")).one()
    assert event.actor == str(admin.id) and event.detail["source"] == sheet.name


def test_a_changed_helpline_is_refused_without_an_admin(lead_app, tmp_path):
    app, library = lead_app
    workbook = tmp_path / "all.xlsx"
    assert _cli(app, "export", str(workbook)).exit_code == 0
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    sheet = book["structure"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "region" and "+1 202 555 0100" in str(row[4].value):
            row[4].value = str(row[4].value).replace("+1 202 555 0100", "+1 202 555 0111")
            break
    else:
        pytest.fail("no region row with the demo helpline")
    book.save(workbook)
    region_file = sorted((library / "regions").glob("*.yaml"))[0].read_bytes()
    refused = _cli(app, "import", str(workbook))
    assert refused.exit_code == 1 and "region" in refused.output and "--approved-by" in refused.output
    assert sorted((library / "regions").glob("*.yaml"))[0].read_bytes() == region_file


# `content load` (and the release step, which runs it) copies the library folder into the database.
# The folder can be edited by hand; it cannot approve new wording for a message the database holds.

HAND_EDITED = "If you might act on thoughts of suicide, call now:\n{helplines}"


def _hand_edit_crisis_reply(library: Path) -> None:
    """Someone with the folder opens crisis.yaml and writes a version 2 that says it is approved."""
    path = library / "en" / "crisis.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  crisis.immediate:\n")
    end = text.index("  crisis.safety_plan.1:")
    block = ("  crisis.immediate:\n    budget: 4\n    version: 2\n    status: approved\n    sms: |-\n"
             "      If you might act on thoughts of suicide, call now:\n      {helplines}\n")
    path.write_text(text[:start] + block + text[end:], encoding="utf-8")


def _db_served(app) -> str:
    services = app.extensions["tumaini.services"]
    with services.db.session() as session:
        return services.content(session).render("crisis.immediate", "en", "sms", {"helplines": "X"}).text


def _new_process(app) -> None:
    """The release runs in a fresh process: forget the library this app read before the edit."""
    services = app.extensions["tumaini.services"]
    for cached in ("library", "_content_source"):
        services.__dict__.pop(cached, None)


def _crisis_versions(app) -> dict[int, str]:
    from content.db import ContentVersion

    with app.extensions["tumaini.services"].db.session() as session:
        rows = session.scalars(select(ContentVersion).where(ContentVersion.item_id == "crisis.immediate",
                                                            ContentVersion.locale == "en")).all()
        return {row.version: row.status for row in rows}


def test_the_first_load_into_an_empty_database_takes_the_library_as_written(lead_app):
    app, _library = lead_app
    first = _cli(app, "load")
    assert first.exit_code == 0, first.output
    assert "first load into a database with no content" in first.output and "held for review" not in first.output
    assert _crisis_versions(app) == {1: "approved"}
    with app.extensions["tumaini.services"].db.session() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "content.first_load")).all()
    assert event.actor == "system" and event.detail["approved"] > 100


@pytest.mark.parametrize("command", [("content", "load"), ("release",)])
def test_a_hand_edited_approval_is_held_at_load_and_the_approved_reply_keeps_serving(lead_app, command):
    app, library = lead_app
    assert _cli(app, "load").exit_code == 0
    before = _db_served(app)
    _hand_edit_crisis_reply(library)
    _new_process(app)
    result = app.test_cli_runner().invoke(args=list(command))
    assert result.exit_code == 0, result.output
    assert "held for review (in_review, not sent until approved): crisis.immediate/en@2" in result.output
    assert _crisis_versions(app) == {1: "approved", 2: "in_review"}
    assert _db_served(app) == before, "people in crisis still get the approved reply"
    assert _audited(app) == []


def test_only_an_admin_loads_a_hand_edited_approval_and_it_is_audited_first(lead_app):
    app, library = lead_app
    assert _cli(app, "load").exit_code == 0
    _hand_edit_crisis_reply(library)
    refused = _cli(app, "load", "--approved-by", "curator@example.org")
    assert refused.exit_code == 1 and "not an active admin" in refused.output
    assert _crisis_versions(app) == {1: "approved"} and _audited(app) == [], "nothing written"
    done = _cli(app, "load", "--approved-by", "admin@example.org")
    assert done.exit_code == 0, done.output
    assert "approved by admin@example.org (audited)" in done.output
    assert _crisis_versions(app) == {1: "approved", 2: "approved"}
    assert _db_served(app) == HAND_EDITED.replace("{helplines}", "X")
    [event] = _audited(app)
    assert event.detail["source"] == "content load" and event.detail["approved"] == 1
