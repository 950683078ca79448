"""Reports: aggregate counts only, exportable as CSV; the audit log export for admins."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.portal import reports
from core.tables import AuditEvent, Escalation, InboundMessage, OutboxMessage, utcnow
from tests.portal.conftest import sqlite_only


@pytest.fixture()
def activity(portal_app, make_case):
    """Three people over two days, with modules and screenings completed."""
    people = [make_case(severity=s, phone=f"+25470011122{i}")[0] for i, s in enumerate(["high", "concern", "high"])]
    yesterday = utcnow() - timedelta(days=1)
    with portal_app.extensions["tumaini.services"].db.session() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.contact_id == people[0].contact_id)
            .values(received_at=yesterday)
        )
        session.execute(
            update(OutboxMessage).where(OutboxMessage.contact_id == people[0].contact_id).values(created_at=yesterday)
        )
        for person, action, detail in [
            (people[0], "module_completed:sleep", {}),
            (people[1], "module_completed:sleep", {}),
            (people[2], "module_completed:breathing", {}),
            (people[0], "screening_completed", {"instrument": "phq9", "band": "moderate"}),
            (people[1], "screening_completed", {"instrument": "phq9", "band": "moderate"}),
            (people[2], "screening_completed", {"instrument": "gad7", "band": "mild"}),
        ]:
            session.add(AuditEvent(actor="worker", action=action, contact_id=person.contact_id, detail=detail))
        old = people[2]
        session.add(
            AuditEvent(
                actor="worker",
                action="module_completed:sleep",
                contact_id=old.contact_id,
                created_at=utcnow() - timedelta(days=40),
            )
        )
        session.execute(
            update(Escalation)
            .where(Escalation.contact_id == old.contact_id)
            .values(opened_at=utcnow() - timedelta(days=40))
        )
    return people


def test_the_report_counts_messages_people_modules_and_screenings(portal_app, activity):
    with portal_app.extensions["tumaini.services"].db.session() as session:
        report = reports.build(session, days=30)
    assert report.active_people == 3 and report.new_people == 3
    assert [(d.inbound, d.outbound, d.people) for d in report.days[-2:]] == [(1, 1, 1), (2, 2, 2)]
    assert sum(d.inbound for d in report.days) == 3
    assert report.modules == [("sleep", 2), ("breathing", 1)]  # the 40-day-old completion is outside
    assert report.screenings == {"gad7": {"mild": 1}, "phq9": {"moderate": 2}}
    assert report.escalations == {"high": 1, "concern": 1}


@sqlite_only
def test_the_csv_export_is_aggregate_only(sign_in, activity, portal_app):
    b, _ = sign_in("health_worker")
    response = b.get("/portal/reports.csv?days=7")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    wanted = {(r["metric"], r["key"], r["subkey"]): r["value"] for r in rows}
    assert wanted[("module_completions", "sleep", "")] == "2"
    assert wanted[("screenings", "phq9", "moderate")] == "2"
    assert wanted[("active_people", "", "")] == "3"
    assert len([r for r in rows if r["metric"] == "messages_in"]) == 7
    text = response.get_data(as_text=True)
    services = portal_app.extensions["tumaini.services"]
    for person in activity:
        assert person.phone not in text and services.pseudonymise(person.phone) not in text


@sqlite_only
def test_the_report_page_shows_the_same_figures(sign_in, activity):
    b, _ = sign_in("curator")
    page = b.get("/portal/reports?days=30").get_data(as_text=True)
    assert "<code>sleep</code></td><td>2</td>" in page and "PHQ9" in page and "moderate" in page
    assert "<meter" in page


@sqlite_only
def test_admins_export_the_audit_log_and_the_export_is_itself_audited(portal_app, sign_in, activity):
    b, admin = sign_in("admin")
    first = b.get("/portal/audit.csv")
    rows = list(csv.DictReader(io.StringIO(first.get_data(as_text=True))))
    assert {"module_completed:sleep", "screening_completed", "portal.login"} <= {r["action"] for r in rows}
    assert any(r["action"] == "audit.exported" and r["actor"] == str(admin.id) for r in rows)
    phq = next(r for r in rows if r["action"] == "screening_completed")
    assert '"instrument": "phq9"' in phq["detail"] or '"instrument": "gad7"' in phq["detail"]
    since = b.get(f"/portal/audit.csv?since={(utcnow() + timedelta(days=1)).date().isoformat()}")
    assert since.get_data(as_text=True).strip() == "id,created_at,actor,action,contact_id,detail"


def test_audit_export_streams_in_batches(portal_app, activity):
    with portal_app.extensions["tumaini.services"].db.session() as session:
        chunks = list(reports.audit_csv(session, batch=2))
    lines = "".join(chunks).strip().splitlines()
    assert len(chunks) == 1 + 4 and len(lines) == 1 + 7  # the header, then 7 events two at a time
