"""Health data at rest: screening answers in progress, scores and bands, crisis flags and a case's
link to the person are sealed or kept out, and have their own retention (HEALTH_RETENTION_DAYS),
applied by the retention job in a real worker. The portal's case view and reports keep working."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from bot import create_app
from bot.services import Services
from core.queue import SCHEDULE
from core.tables import AuditEvent, Contact, Escalation, InboundMessage, OutboxMessage, utcnow
from tests.conftest import drain, inbound_form, post_signed
from workers import runtime

PHONE = "+254700000432"
SCORE_WORDS = ("score", "band", "minimal", "mild", "moderate", "severe", "crisis", "screening", "safety")


@pytest.fixture()
def world(config, starter_content):
    cfg = replace(config, RETENTION_DAYS=30, HEALTH_RETENTION_DAYS=60)
    app = create_app(cfg)
    services = Services(cfg)
    services.__dict__["library"] = starter_content
    runtime.install(services)
    yield app, app.test_client(), services
    services.close()
    app.extensions["tumaini.services"].close()


def _say(client, services, body):
    assert post_signed(client, inbound_form(body, phone=PHONE)).status_code == 200
    drain(services)


def _last(twilio_standin):
    return twilio_standin.bodies_to(PHONE)[-1]


def _phq9_midway(client, services, twilio_standin):
    """Consent, open the mood check and answer its first two questions."""
    _say(client, services, "hello")
    _say(client, services, "YES")
    menu = _last(twilio_standin)
    number = re.search(r"(\d+)\. [^\n]*PHQ-9", menu).group(1)
    _say(client, services, number)
    _say(client, services, "3")
    _say(client, services, "2")


def _raw_rows(services, table):
    """The table as the database holds it, every column as text."""
    with services.db.engine.connect() as conn:
        return [" ".join(str(v) for v in row) for row in conn.execute(text(f"SELECT * FROM {table}"))]


def test_screening_answers_scores_and_crisis_flags_are_never_stored_in_clear(world, twilio_standin):
    app, client, services = world
    _phq9_midway(client, services, twilio_standin)
    with services.db.session() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.state == {} and contact.state_enc, "the answers so far are sealed"
    assert not any("answers" in row or "phq9" in row for row in _raw_rows(services, "contacts"))
    for answer in ["1"] * 6 + ["0"]:  # nine answers in all; the last (self-harm) is 0
        _say(client, services, answer)
    _say(client, services, "I want to kill myself tonight")
    with services.db.session() as session:
        linked = session.scalars(select(AuditEvent).where(AuditEvent.contact_id.is_not(None))).all()
    assert linked and all(not e.action.startswith(("crisis", "screening", "safety")) for e in linked)
    for event in linked:
        shown = (event.action + json.dumps(event.detail)).lower()
        assert not any(word in shown for word in SCORE_WORDS), (event.action, event.detail)
    # The sealed events still open, for the reports: the person's band is counted.
    with services.db.session() as session:
        from bot.portal import reports

        report = reports.build(session, days=7, cipher=services.cipher)
    assert sum(report.screenings.get("phq9", {}).values()) == 1


def test_the_data_reply_says_how_long_data_is_kept(world, twilio_standin):
    app, client, services = world
    _say(client, services, "hello")
    _say(client, services, "YES")
    _say(client, services, "DATA")
    assert "60 days" in _last(twilio_standin), "the longer of the two retentions (30 and 60 days)"


def _age(services, days):
    """Move every record of the person ``days`` into the past, as if nothing happened since."""
    then = utcnow() - timedelta(days=days)
    with services.db.session() as session:
        session.execute(update(Contact).values(last_inbound_at=then, created_at=then))
        session.execute(update(AuditEvent).values(created_at=then))
        session.execute(update(InboundMessage).values(received_at=then))
        session.execute(update(OutboxMessage).values(created_at=then))
        session.execute(update(Escalation).values(opened_at=then, closed_at=then, status="closed",
                                                  outcome="resolved"))


def _purge_in_a_worker(services):
    services.jobs.queues[SCHEDULE].enqueue("workers.jobs.purge_expired_messages")
    drain(services)


def test_health_data_past_its_retention_is_dropped_or_unlinked_by_the_retention_job(world, twilio_standin):
    app, client, services = world
    _phq9_midway(client, services, twilio_standin)
    _say(client, services, "I want to kill myself tonight")
    with services.db.session() as session:
        case_id = session.scalars(select(Escalation)).one().id
    _age(services, 45)  # past the messages' 30 days, within health data's 60
    _purge_in_a_worker(services)
    with services.db.session() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.state_enc is not None, "within HEALTH_RETENTION_DAYS the state stays"
        assert session.get(Escalation, case_id).contact_id == contact.id
    _age(services, 61)
    _purge_in_a_worker(services)
    with services.db.session() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.state_enc is None and contact.state == {}
        case = session.get(Escalation, case_id)
        assert case.contact_id is None and case.inbound_id is None and case.severity in {"high", "imminent"}
        events = session.scalars(select(AuditEvent)).all()
    health = [e for e in events if e.action.startswith(("crisis", "screening", "safety", "health"))
              or (e.detail or {}).get("kind") == "crisis"]
    assert health, "aggregates stay for the reports"
    for event in health:
        assert event.contact_id is None and "sealed" not in event.detail and "score" not in event.detail
        assert (event.created_at.hour, event.created_at.minute, event.created_at.second) == (0, 0, 0)
    case_events = [e for e in events if (e.detail or {}).get("escalation_id") == case_id]
    assert case_events and all(e.contact_id is None for e in case_events), "nothing re-links the case"
    # The person comes back: no stale screening question, and no welcome and consent all over again.
    _say(client, services, "hello")
    back = _last(twilio_standin)
    assert "Tumaini" not in back and "agree" not in back and back.startswith("What would you like help with?")


def test_the_case_page_and_reports_work_on_an_unlinked_case(world, twilio_standin):
    app, client, services = world
    _say(client, services, "hello")
    _say(client, services, "YES")
    _say(client, services, "I want to kill myself tonight")
    with services.db.session() as session:
        case_id = session.scalars(select(Escalation)).one().id
    _age(services, 61)
    _purge_in_a_worker(services)
    import bot.portal
    from bot.portal.accounts import create_user
    from tests.portal.conftest import FAST_HASH, Browser

    if "portal" not in app.blueprints:
        bot.portal.init_app(app)
    app.config["PORTAL_PASSWORD_HASH"] = FAST_HASH
    with app.app_context(), services.db.session() as session:
        create_user(session, "lead@example.org", "correct horse battery", "admin")
    browser = Browser(app.test_client())
    browser.login("lead@example.org")
    assert browser.get(f"/portal/cases/{case_id}").status_code == 200
    report = browser.get("/portal/reports.csv?days=90")
    assert report.status_code == 200
    assert re.search(r"escalations_opened,(high|imminent),,1", report.get_data(as_text=True))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    from tests.conftest import throwaway_postgres

    with throwaway_postgres("tumaini_health") as url:
        yield url


def test_upgrading_keeps_out_health_events_written_in_clear_before(empty_database):
    """Events written in clear before sealing existed cannot be sealed by a migration (no key), so
    the migration turns them into the unlinked daily aggregates the retention job makes."""
    from bot import migrate
    from core.db import make_engine

    url = empty_database
    migrate.upgrade(url, "0011_error_kind")
    engine = make_engine(url)
    events = [("screening_completed", {"instrument": "phq9", "band": "severe", "score": 22}),
              ("crisis:imminent", {}), ("safety.concern", {"rules": ["en.distress"]}),
              ("reply.composed", {"inbound_id": 1, "content": "crisis.immediate@1", "kind": "crisis"}),
              ("reply.composed", {"inbound_id": 1, "content": "menu.main@1", "kind": "reply"})]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO contacts (id, phone_hash, phone_enc, channel, opted_out, paused, state, "
                          "created_at) VALUES (7, 'h', :e, 'sms', false, false, '{}', CURRENT_TIMESTAMP)"),
                     {"e": b"x"})
        for action, detail in events:
            conn.execute(text("INSERT INTO audit_events (created_at, actor, action, contact_id, detail) "
                              "VALUES ('2026-11-03 14:25:31', 'worker', :a, 7, :d)"),
                         {"a": action, "d": json.dumps(detail)})
    migrate.upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, contact_id, detail, created_at FROM audit_events ORDER BY id")).all()
    engine.dispose()
    kept = [(action, contact_id, json.loads(detail) if isinstance(detail, str) else detail)
            for action, contact_id, detail, _ in rows]
    assert kept == [
        ("screening_completed", None, {"instrument": "phq9", "band": "severe"}),
        ("crisis:imminent", None, {}),
        ("safety.concern", None, {}),
        ("reply.composed", None, {"content": "crisis.immediate@1", "kind": "crisis"}),
        ("reply.composed", 7, {"inbound_id": 1, "content": "menu.main@1", "kind": "reply"}),
    ]
    assert all(str(created)[11:19] == "00:00:00" for *_, created in rows[:4])
