"""A person asks for a person, and a positive mood check leads to the longer one, end to end:
the signed webhook, real ``python -m workers`` processes and the Twilio stand-in.

Needs Redis and the database fixtures.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from bot import create_app
from bot.portal import casefile
from bot.portal.accounts import create_user
from bot.portal.rota import set_phone
from bot.services import Services
from core.outbox import queue_next_for
from core.tables import AuditEvent, CaseKind, Contact, Escalation
from tests.conftest import inbound_form, make_config, post_signed, wait_for

PERSON = "+254700000601"
ONCALL = "+254711000011"
AMINA = "+254711000012"


def _setup(tmp_path: Path, database_url: str, redis_url: str, standin_url: str, spawn_worker):
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=standin_url,
                         ONCALL_NUMBERS=(ONCALL,), STAFFED_HOURS="", SWEEP_INTERVAL_S=1)
    app = create_app(config)
    spawn_worker(config)
    return config, app, app.test_client(), Services(config)


def _conversation(client, twilio_standin):
    """Send each text and wait for its replies; returns the new replies of the last one."""

    def say(text: str, replies: int = 1) -> list[str]:
        before = len(twilio_standin.bodies_to(PERSON))
        assert post_signed(client, inbound_form(text, phone=PERSON)).status_code == 200
        return wait_for(lambda: (lambda got: got[before:] if len(got) >= before + replies else None)(
            twilio_standin.bodies_to(PERSON)), timeout=60)

    return say


def test_talk_opens_a_handoff_case_that_alerts_on_call_and_staff_then_have_the_conversation(
    tmp_path, database_url, redis_url, twilio_standin, spawn_worker
):
    config, app, client, services = _setup(tmp_path, database_url, redis_url, twilio_standin.url, spawn_worker)
    say = _conversation(client, twilio_standin)
    say("hello", 2)
    say("YES")
    told = say("TALK")[0]
    # Honest: nobody is on duty in this deployment (no staffed hours, no rota), so no "soon".
    assert "No health worker is on duty right now" in told and "soon" not in told
    alert = wait_for(lambda: twilio_standin.bodies_to(ONCALL), timeout=60)[0]
    assert "asked to talk to a person" in alert and PERSON[1:] not in alert
    with services.db.session() as session:
        case = session.scalars(select(Escalation)).one()
        assert (case.kind, case.severity, case.status) == (CaseKind.HANDOFF, "handoff", "open")
        case_id = case.id
    # The bot keeps helping until someone writes.
    assert "Sleep" in say("MENU")[0]
    # Asking again opens no second case.
    assert "already has your request" in say("talk")[0]

    # A health worker replies from the case page.
    with app.app_context(), services.db.session() as session:
        worker = create_user(session, "hw@example.org", "correct horse battery", "health_worker", name="Amina")
        set_phone(session, services, worker, AMINA, worker)
        case = session.get(Escalation, case_id)
        contact = session.get(Contact, case.contact_id)
        casefile.store_reply(session, services.cipher, case, contact, worker, "Hi, I'm Amina. Are you safe right now?",
                             config.SMS_SEGMENT_BUDGET)
        contact_id = contact.id
    queue_next_for(services, contact_id)
    wait_for(lambda: [b for b in twilio_standin.bodies_to(PERSON) if "Amina" in b])

    # The person's "yes" is for the health worker: the bot says once that someone is with them...
    assert say("yes") == ["A health worker is with you now and reads your messages. Reply MENU to go back to tips."]
    before = len(twilio_standin.bodies_to(PERSON))
    assert post_signed(client, inbound_form("yes I am at home", phone=PERSON)).status_code == 200

    def reached_the_case() -> int:
        with services.db.session() as session:
            return len(session.scalars(select(AuditEvent.id).where(AuditEvent.action == "handoff.to_case")).all())

    wait_for(lambda: reached_the_case() == 2, timeout=60)
    # ...and then stays quiet. Amina is told once, by SMS, that the person wrote back (not what).
    time.sleep(1)
    assert len(twilio_standin.bodies_to(PERSON)) == before
    told = wait_for(lambda: twilio_standin.bodies_to(AMINA))
    assert len(told) == 1 and told[0].startswith(f"Tumaini case {case_id}: the person wrote back.")
    assert f"/portal/cases/{case_id}" in told[0] and "home" not in told[0]
    # MENU takes the person back to the bot.
    assert "Sleep" in say("MENU")[0]
    assert "sleep" in say("2")[0].lower()

    # The health worker writes again, then hands the conversation back from the case page.
    with app.app_context(), services.db.session() as session:
        case, contact = session.get(Escalation, case_id), session.get(Contact, contact_id)
        casefile.store_reply(session, services.cipher, case, contact, worker, "Call me if you need to.",
                             config.SMS_SEGMENT_BUDGET)
    queue_next_for(services, contact_id)
    wait_for(lambda: [b for b in twilio_standin.bodies_to(PERSON) if b == "Call me if you need to."])
    assert say("ok")[0].startswith("A health worker is with you now")
    with app.app_context(), services.db.session() as session:
        casefile.hand_back(session, session.get(Escalation, case_id), worker)
    assert "sleep" in say("2")[0].lower()
    with services.db.session() as session:
        assert session.get(Escalation, case_id).status == "open"  # handed back, not closed
    services.close()
    app.extensions["tumaini.services"].close()


def test_a_positive_quick_mood_check_then_yes_starts_the_phq9(
    tmp_path, database_url, redis_url, twilio_standin, spawn_worker
):
    config, app, client, services = _setup(tmp_path, database_url, redis_url, twilio_standin.url, spawn_worker)
    say = _conversation(client, twilio_standin)
    say("hello", 2)
    menu = say("YES")[0]
    assert "9. Quick mood check (2 questions)" in menu
    say("9", 3)
    say("3")
    with services.db.session() as session:
        state, sealed = session.execute(select(Contact.state, Contact.state_enc)).one()
    # Screening answers are sealed with the rest of the stored state (core.health), never in the clear.
    assert state == {} and sealed and b"answers" not in sealed
    result = say("2", 2)
    assert "Your score is 5 of 6" in result[0] and "Reply YES for a longer check" in result[0]
    assert say("YES", 3)[-1].startswith("1/9")
    with services.db.session() as session:
        completed = session.scalars(select(AuditEvent).where(AuditEvent.action == "screening_completed")).all()
    # Counted for reports, without the person and without the score.
    assert [(e.contact_id, e.detail) for e in completed] == [(None, {"instrument": "phq2", "band": "positive"})]
    services.close()
    app.extensions["tumaini.services"].close()


def test_a_first_message_asking_for_a_person_reaches_one_as_soon_as_the_person_consents(
    tmp_path, database_url, redis_url, twilio_standin, spawn_worker
):
    _config, _app, client, services = _setup(tmp_path, database_url, redis_url, twilio_standin.url, spawn_worker)
    say = _conversation(client, twilio_standin)
    welcome = say("I need to talk to someone please", 2)
    assert "automated" in welcome[0] and "Do you agree?" in welcome[1]
    with services.db.session() as session:
        assert session.scalars(select(Escalation)).all() == []  # nothing is opened before consent
    told = say("YES")[0]
    assert told.startswith("I have asked a health worker to write to you here.")
    alert = wait_for(lambda: twilio_standin.bodies_to(ONCALL), timeout=60)[0]
    assert "asked to talk to a person" in alert
    with services.db.session() as session:
        case = session.scalars(select(Escalation)).one()
        assert (case.kind, case.status) == (CaseKind.HANDOFF, "open")
    # The bot keeps helping until someone writes.
    assert "Sleep" in say("MENU")[0]
