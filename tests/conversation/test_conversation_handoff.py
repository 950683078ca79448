"""Asking for a person, the conversation while a health worker is in it, and the PHQ-2 follow-up.

The engine is pure: the worker says whether the person has an open case (``Turn.case``); the
engine says what the person is told and asks for a handoff case (``Outcome.handoff``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import Engine, Profile, Turn
from bot.conversation.types import CASE_OPEN, RISK_HIGH, WITH_STAFF
from content.store import ContentStore

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
READY = Profile(locale="en", consented=True)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(ContentStore.from_library(LIBRARY))


def refs(outcome) -> list[str]:
    return [r.ref.split("@")[0] for r in outcome.replies]


@pytest.mark.parametrize("word, locale", [("TALK", "en"), ("talk to a person", "en"), ("Ongea", "sw"),
                                          ("parler", "fr"), ("HABLAR", "es")])
def test_the_talk_keyword_opens_a_handoff_case_in_every_locale(engine, word, locale):
    outcome = engine.step({"flow": "module", "module": "sleep", "step": 1}, Turn(word, "sms"),
                          Profile(locale=locale, consented=True))
    assert outcome.handoff and "handoff_requested" in outcome.events
    assert refs(outcome) == ["handoff.requested"]
    # The bot keeps helping: the person stays where they were and MENU still works.
    assert outcome.state["flow"] == "module"


def test_the_handoff_reply_says_honestly_when_someone_will_write(engine):
    outcome = engine.step({"flow": "menu"}, Turn("TALK", "sms"), READY)
    assert "No health worker is on duty right now" in outcome.replies[0].text
    assert "soon" not in outcome.replies[0].text


def test_asking_again_while_a_case_is_open_opens_no_second_case(engine):
    outcome = engine.step({"flow": "menu"}, Turn("TALK", "sms", case=CASE_OPEN), READY)
    assert not outcome.handoff and refs(outcome) == ["handoff.already"]


def test_help_stays_the_carrier_information_reply_and_names_talk(engine):
    outcome = engine.step({"flow": "menu"}, Turn("HELP", "sms"), READY)
    assert refs(outcome) == ["keywords.help"] and not outcome.handoff
    assert "TALK to reach a health worker" in outcome.replies[0].text


def test_before_consent_talk_asks_for_consent_and_opens_nothing(engine):
    outcome = engine.step({"flow": "consent", "consent_locale": "en"}, Turn("TALK", "sms"), Profile())
    assert not outcome.handoff and refs(outcome) == ["onboarding.consent"]


def test_while_staff_are_in_the_conversation_the_bot_says_so_once_then_stays_quiet(engine):
    state = {"flow": "safety_plan", "plan_step": 0}
    first = engine.step(state, Turn("yes", "sms", case=WITH_STAFF), READY)
    assert refs(first) == ["handoff.staff_with_you"]
    # "yes" answered the health worker: the safety plan did not move.
    assert first.state["plan_step"] == 0 and first.state["flow"] == "safety_plan"
    second = engine.step(first.state, Turn("I am at home now", "sms", case=WITH_STAFF), READY)
    assert refs(second) == [] and ("handoff.to_case", {}) in second.audit


def test_with_staff_the_safety_gate_and_carrier_keywords_still_work(engine):
    quiet = {"flow": "menu", "with_staff": True}
    crisis = engine.step(quiet, Turn("...", "sms", risk=RISK_HIGH, case=WITH_STAFF), READY)
    assert refs(crisis) == ["crisis.immediate"]
    assert refs(engine.step(quiet, Turn("HELP", "sms", case=WITH_STAFF), READY)) == ["keywords.help"]
    stop = engine.step(quiet, Turn("STOP", "sms", case=WITH_STAFF), READY)
    assert stop.opt_out


def test_menu_takes_the_person_back_to_the_bot(engine):
    outcome = engine.step({"flow": "menu", "with_staff": True}, Turn("MENU", "sms", case=WITH_STAFF), READY)
    assert outcome.leave_staff and refs(outcome) == ["menu.main"]
    assert "with_staff" not in outcome.state


def test_when_staff_leave_the_notice_is_forgotten_and_the_bot_answers_again(engine):
    outcome = engine.step({"flow": "menu", "with_staff": True}, Turn("2", "sms"), READY)
    assert refs(outcome) == ["module.sleep.1"] and "with_staff" not in outcome.state


def play(engine, texts, state):
    outcome = None
    for text in texts:
        outcome = engine.step(state, Turn(text, "sms"), READY)
        state = outcome.state
    return outcome, state


def test_the_quick_mood_check_is_on_the_menu(engine):
    menu = engine.step({"flow": "menu"}, Turn("MENU", "sms"), READY).replies[0].text
    assert "9. Quick mood check (2 questions)" in menu


def test_a_positive_phq2_then_yes_starts_the_phq9(engine):
    outcome, state = play(engine, ["9", "2", "2"], {"flow": "menu"})
    assert refs(outcome) == ["screening.phq2.band.positive", "screening.phq2.help"]
    assert state["offer"] == "phq9"
    outcome, state = play(engine, ["YES"], state)
    assert refs(outcome) == ["screening.phq9.intro", "screening.phq9.scale", "screening.phq9.q1"]
    assert state["flow"] == "screening" and state["instrument"] == "phq9" and "offer" not in state
    assert ("screening.follow_up", {"instrument": "phq9"}) in outcome.audit


def test_a_negative_phq2_offers_nothing_and_yes_is_not_a_phq9(engine):
    outcome, state = play(engine, ["9", "0", "1"], {"flow": "menu"})
    assert refs(outcome) == ["screening.phq2.band.negative", "screening.phq2.help"] and "offer" not in state
    outcome, _ = play(engine, ["YES"], state)
    assert "screening.phq9.intro" not in refs(outcome)


def test_the_offer_lasts_one_message(engine):
    _, state = play(engine, ["9", "3", "3"], {"flow": "menu"})
    outcome, state = play(engine, ["2"], state)
    assert refs(outcome) == ["module.sleep.1"] and "offer" not in state
