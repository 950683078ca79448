"""Joining courses and PAUSE / RESUME / TIME: the engine's table, then the whole pipeline."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.conversation import Engine, Profile, Turn
from content.store import ContentStore
from core.tables import Contact, CourseEnrollment
from tests.conftest import drain, inbound_form, post_signed
from tests.scheduling.conftest import enrollment_of
from workers.scheduling import tick

READY = Profile(locale="en", consented=True)
LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(ContentStore.from_library(LIBRARY))


def course_number(engine: Engine, course: str) -> str:
    return next(str(n) for n, target, _ in engine.menu_entries("en") if target == f"course:{course}")


def refs(outcome) -> list[str]:
    return [r.ref.split("@")[0] for r in outcome.replies]


@pytest.mark.parametrize("state, text, expected_refs, expected_audit", [
    ({"flow": "menu"}, "PAUSE", ["keywords.pause_confirmation"], [("schedule.pause", {})]),
    ({"flow": "module", "module": "sleep", "step": 1}, "snooze", ["keywords.pause_confirmation"],
     [("schedule.pause", {})]),
    ({"flow": "menu"}, "RESUME", ["keywords.resume_confirmation"], [("schedule.resume", {})]),
    ({"flow": "menu"}, "TIME 9", ["keywords.time_confirmation"], [("schedule.time", {"minute": 540, "zone": None})]),
    ({"flow": "menu"}, "TIME 7", ["keywords.time_confirmation"],  # before quiet hours end (08:00): moved
     [("schedule.time", {"minute": 480, "zone": None})]),
    ({"flow": "menu"}, "time 18:30 UTC+3", ["keywords.time_confirmation"],
     [("schedule.time", {"minute": 1110, "zone": "Etc/GMT-3"})]),
    ({"flow": "menu"}, "REMIND AT 6pm", ["keywords.time_confirmation"],
     [("schedule.time", {"minute": 1080, "zone": None})]),
    ({"flow": "menu"}, "TIME 23", ["keywords.time_confirmation"],  # quiet hours: moved to 08:00
     [("schedule.time", {"minute": 480, "zone": None})]),
    ({"flow": "menu"}, "TIME", ["keywords.time_help"], []),
    ({"flow": "menu"}, "TIME 99", ["keywords.time_help"], []),
    ({"flow": "menu"}, "time flies when I worry", ["fallback.not_understood"], []),
])
def test_reminder_keywords_answer_and_leave_a_request_for_the_scheduler(engine, state, text, expected_refs,
                                                                         expected_audit):
    outcome = engine.step(state, Turn(text, "sms"), READY)
    assert refs(outcome) == expected_refs
    assert [a for a in outcome.audit if a[0].startswith("schedule.")] == expected_audit


def test_the_confirmation_says_the_hour_that_will_be_used(engine):
    outcome = engine.step({"flow": "menu"}, Turn("TIME 23", "sms"), READY)
    assert "08:00" in outcome.replies[0].text


def test_reminder_keywords_work_in_the_persons_language(engine):
    outcome = engine.step({"flow": "menu"}, Turn("SAA 18:30", "sms"), Profile(locale="sw", consented=True))
    assert ("schedule.time", {"minute": 1110, "zone": None}) in outcome.audit


def test_courses_are_on_the_main_menu_and_choosing_one_joins_it(engine):
    menu = engine.step({"flow": "menu"}, Turn("MENU", "sms"), READY).replies[0].text
    assert "7 days of Doing What Matters" in menu and "Weekly check-in" in menu
    outcome = engine.step({"flow": "menu"}, Turn(course_number(engine, "weekly_checkin"), "sms"), READY)
    assert refs(outcome) == ["course.weekly_checkin.enrolled"]
    assert ("schedule.enrol", {"course": "weekly_checkin"}) in outcome.audit
    outcome = engine.step({"flow": "menu"}, Turn(course_number(engine, "doing_what_matters"), "sms"), READY)
    assert refs(outcome) == ["course.enrolled"] and outcome.state["flow"] == "menu"


def test_a_numbered_reply_at_the_end_of_a_module_follows_the_modules_own_choice(engine):
    outcome = engine.step({"flow": "module", "module": "stress", "step": 3}, Turn("1", "sms"), READY)
    assert refs(outcome) == ["module.breathing.1"]


def test_reminder_keywords_wait_for_consent(engine):
    outcome = engine.step({"flow": "consent", "consent_locale": "en"}, Turn("PAUSE", "sms"), Profile(locale="en"))
    assert refs(outcome) == ["onboarding.consent"] and outcome.audit == []


# -- through the webhook, the worker and the database --------------------------------

@pytest.fixture()
def database_url(sqlite_url: str) -> str:
    return sqlite_url


PHONE = "+254700000301"


def _contact(services) -> Contact:
    with services.db.session() as session:
        return session.scalars(select(Contact)).one()


def test_join_pause_resume_and_time_by_text_through_the_pipeline(make_services, twilio_standin, engine):
    from bot import create_app

    services = make_services(QUIET_HOURS="")  # the test may run at any hour in Nairobi
    client = create_app(services.config).test_client()

    def say(text: str) -> None:
        assert post_signed(client, inbound_form(text, phone=PHONE)).status_code == 200
        drain(services)
        tick(services)
        drain(services)

    for text in ("Hi", "YES", course_number(engine, "doing_what_matters")):
        say(text)
    contact = _contact(services)
    assert contact.time_zone == "Africa/Nairobi"  # from the +254 number
    bodies = twilio_standin.bodies_to(PHONE)
    assert bodies[-2].startswith("You will get one short tip a day") and bodies[-1].startswith("Day 1:")

    say("TIME 10:30")
    contact, enrollment = _contact(services), enrollment_of(services, _contact(services).id)
    due = enrollment.next_due_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Africa/Nairobi"))
    assert contact.send_minute == 630 and (due.hour, due.minute) == (10, 30)
    assert "10:30" in twilio_standin.bodies_to(PHONE)[-1]

    say("PAUSE")
    assert _contact(services).reminders_paused
    say("RESUME")
    assert not _contact(services).reminders_paused
    say("TIME 16 UTC+1")
    assert _contact(services).time_zone == "Etc/GMT-1"
    with services.db.session() as session:
        assert len(session.scalars(select(CourseEnrollment)).all()) == 1
    say(course_number(engine, "doing_what_matters"))  # joining again does not start a second copy
    with services.db.session() as session:
        assert len(session.scalars(select(CourseEnrollment)).all()) == 1


def test_a_paused_persons_course_waits_and_resumes_where_it_left_off(make_services, twilio_standin, engine):
    from bot import create_app
    from core.tables import utcnow
    from tests.scheduling.conftest import set_due

    services = make_services(QUIET_HOURS="")
    client = create_app(services.config).test_client()
    for text in ("Hi", "YES", course_number(engine, "doing_what_matters"), "PAUSE"):
        post_signed(client, inbound_form(text, phone=PHONE))
        drain(services)
    contact_id = _contact(services).id
    set_due(services, contact_id, utcnow())
    assert tick(services).held == 1
    drain(services)
    assert not any(b.startswith("Day 1") for b in twilio_standin.bodies_to(PHONE))
    post_signed(client, inbound_form("RESUME", phone=PHONE))
    drain(services)
    set_due(services, contact_id, utcnow())
    tick(services)
    drain(services)
    assert twilio_standin.bodies_to(PHONE)[-1].startswith("Day 1")
