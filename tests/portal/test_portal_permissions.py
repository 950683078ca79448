"""The roles matrix, checked through the pages each role can and cannot reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.portal import workflow
from bot.portal.models import User
from content.db import ContentVersion
from core.tables import Escalation
from tests.portal.conftest import sqlite_only

OK, FORBIDDEN = 200, 403
ALL = ("admin", "curator", "reviewer", "health_worker", "lived_experience")


def allowed(*roles: str) -> dict[str, int]:
    return {role: OK if role in roles else FORBIDDEN for role in ALL}


PAGES = {
    "/portal/": allowed(*ALL),
    "/portal/content/": allowed(*ALL),
    "/portal/content/menu.main/en/1": allowed(*ALL),
    "/portal/content/menu.main/en/history": allowed(*ALL),
    "/portal/content/new": allowed("admin", "curator"),
    "/portal/content/menu.invalid/en/edit": allowed("admin", "curator"),
    "/portal/cases/": allowed("admin", "health_worker"),
    "/portal/cases/{case}": allowed("admin", "health_worker"),
    "/portal/reports": allowed("admin", "curator", "health_worker", "lived_experience"),
    "/portal/reports.csv": allowed("admin", "curator", "health_worker", "lived_experience"),
    "/portal/review/": allowed("admin", "curator", "reviewer", "lived_experience"),
    "/portal/review/readiness/sw": allowed("admin", "curator", "reviewer", "lived_experience"),
    "/portal/audit.csv": allowed("admin"),
    "/portal/users/": allowed("admin"),
}


@pytest.fixture()
def world(portal_app, library_in_db, make_user, make_case):
    """A case, and a text in review written by a curator who is not the tester."""
    writer = make_user("curator", email="writer@example.org")
    _person, case = make_case(inbound="my private words")
    database = portal_app.extensions["tumaini.services"].db
    with portal_app.app_context(), database.session() as session:
        author = session.get(User, writer.id)
        version = workflow.save_draft(session, author, "menu.main", "en", workflow.Draft(sms="Reply 1, 2 or 3."))
        workflow.submit(session, author, version.id, check=lambda _v: [])
        version_id = version.id
    return {"case": case.id, "version": version_id}


@sqlite_only
@pytest.mark.parametrize("role", ALL)
def test_each_role_reaches_exactly_its_pages(sign_in, world, role):
    b, _user = sign_in(role)
    for path, expected in PAGES.items():
        response = b.get(path.format(case=world["case"]))
        assert response.status_code == expected[role], (role, path)
        if response.status_code == FORBIDDEN:
            assert "my private words" not in response.get_data(as_text=True)


@sqlite_only
@pytest.mark.parametrize("role", ALL)
def test_each_role_can_do_exactly_its_actions(portal_app, sign_in, world, role):
    b, _user = sign_in(role)
    approve = b.post(f"/portal/content/version/{world['version']}/approve", {"comment": ""})
    reply = b.post(f"/portal/cases/{world['case']}/reply", {"text": "We are here for you."})
    close = b.post(f"/portal/cases/{world['case']}/close", {"outcome": "reached_safe"})
    create = b.post(
        "/portal/content/new", {"item_id": "new.thing", "kind": "message", "source_locale": "en", "sms": "Hello there"}
    )
    assert approve.status_code == (FORBIDDEN if role in ("health_worker", "lived_experience") else 302), role
    assert reply.status_code == (OK if role in ("admin", "health_worker") else FORBIDDEN), role
    assert close.status_code == (302 if role in ("admin", "health_worker") else FORBIDDEN), role
    assert create.status_code == (302 if role in ("admin", "curator") else FORBIDDEN), role
    with portal_app.extensions["tumaini.services"].db.session() as session:
        status = session.get(ContentVersion, world["version"]).status
        case_status = session.scalar(select(Escalation.status).where(Escalation.id == world["case"]))
    assert status == ("in_review" if role in ("health_worker", "lived_experience") else "approved")
    assert case_status == ("closed" if role in ("admin", "health_worker") else "open")


@sqlite_only
def test_the_menu_shows_only_what_the_role_can_open(sign_in):
    reviewer, _ = sign_in("reviewer")
    page = reviewer.get("/portal/").get_data(as_text=True)
    assert "Content" in page and "Cases" not in page and "Accounts" not in page and "Reports" not in page
    worker, _ = sign_in("health_worker")
    page = worker.get("/portal/").get_data(as_text=True)
    assert "Cases" in page and "Accounts" not in page and "New content item" not in page
