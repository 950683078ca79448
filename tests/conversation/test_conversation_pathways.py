"""Crisis pathways, table by table: each kind of risk gets its own reply, services and steps.

The engine is pure: the gate's category and whether harm is under way arrive with the
turn, and so does the moment, so which services are open is tested with a fixed clock.
The starter library's demo region (Africa/Nairobi, UTC+3) has a 24-hour crisis line and
GBV line, a child line open 07:00-22:00 and a clinic open on weekdays 08:00-17:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.conversation import Engine, Profile, Turn
from bot.conversation.types import RISK_HIGH, RISK_IMMINENT
from content.store import ContentStore
from tests.conversation.regional_support import build

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
READY = Profile(locale="en", consented=True)
MONDAY_NOON = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi
MONDAY_LATE = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)  # 23:00 in Nairobi
SATURDAY_NIGHT = datetime(2026, 12, 12, 19, 0, tzinfo=UTC)  # 22:00 in Nairobi

CRISIS_LINE = "DEMO HELPLINE - REPLACE: +1 202 555 0100"
GBV_LINE = "DEMO GBV LINE - REPLACE: +1 202 555 0102"
CHILD_LINE = "DEMO CHILD LINE - REPLACE: +1 202 555 0103"
CLINIC = "DEMO CLINIC - REPLACE: +1 202 555 0101"
EMERGENCY = "DEMO EMERGENCY - REPLACE: +1 202 555 0199"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(ContentStore.from_library(LIBRARY))


def crisis(category: str, now: datetime = MONDAY_NOON, in_progress: bool = False, risk: int = RISK_HIGH) -> Turn:
    return Turn("(the person's words)", "sms", risk=risk, risk_rules=("r1",), category=category,
                in_progress=in_progress, now=now)


def said(text: str, now: datetime = MONDAY_NOON) -> Turn:
    return Turn(text, "sms", now=now)


def refs(outcome) -> list[str]:
    return [r.ref.split("@")[0] for r in outcome.replies]


@pytest.mark.parametrize("category, severity", [
    ("suicide", "high"), ("self_harm", "high"), ("third_party", "high"), ("command_hallucination", "imminent"),
    ("violence", "high"), ("child_safeguarding", "high"), ("sexual_violence", "high"),
])
def test_each_category_gets_its_own_first_reply_and_a_case_with_its_category(engine, category, severity):
    outcome = engine.step({"flow": "menu"}, crisis(category), READY)
    assert refs(outcome) == [f"crisis.{category}"] and outcome.replies[0].kind == "crisis"
    assert outcome.escalation == (severity, ("r1",)) and outcome.case_category == category
    assert outcome.pause and outcome.state == {"flow": "safety_plan", "plan_step": 0, "pathway": category}
    assert "{" not in outcome.replies[0].text


def test_harm_under_way_gets_the_emergency_number_first_and_an_imminent_case(engine):
    outcome = engine.step({"flow": "menu"}, crisis("suicide", in_progress=True), READY)
    assert refs(outcome) == ["crisis.in_progress"]
    text = outcome.replies[0].text
    assert text.startswith(f"Please call {EMERGENCY} now")
    assert "safety plan" not in text
    assert outcome.escalation[0] == "imminent" and outcome.case_category == "suicide"
    # Anything but YES repeats the emergency number; YES (help is there) gets what to tell the
    # people helping, and the YES after that starts the pathway's steps.
    again = engine.step(outcome.state, said("I feel dizzy"), READY)
    assert refs(again) == ["crisis.in_progress.followup"] and EMERGENCY in again.replies[0].text
    helped = engine.step(again.state, said("yes"), READY)
    assert refs(helped) == ["crisis.in_progress.help"] and "in_progress" not in helped.state
    text = helped.replies[0].text
    assert text.startswith("I'm glad someone is with you.") and "what happened" in text and "packet" in text
    # No health worker on duty here: {response_time} says so and, since the message itself does
    # not give the emergency number, keeps its own "in danger now, call" clause.
    assert "No health worker is on duty" in text and text.count(EMERGENCY) == 1 and "{" not in text
    assert "safety plan" not in text and "Feelings like this can pass" not in text
    assert helped.replies[0].kind == "crisis" and helped.escalation is None
    planned = engine.step(helped.state, said("yes"), READY)
    assert refs(planned) == ["crisis.safety_plan.1"] and planned.state["plan_step"] == 1


def test_someone_else_s_harm_under_way_then_yes_tells_the_helper_what_to_say_and_asks_how_they_are(engine):
    outcome = engine.step({"flow": "menu"}, crisis("third_party", in_progress=True), READY)
    assert refs(outcome) == ["crisis.third_party.in_progress"]
    helped = engine.step(outcome.state, said("yes"), READY)
    assert refs(helped) == ["crisis.third_party.in_progress.help"]
    text = helped.replies[0].text
    assert "responders what happened" in text and "look after yourself too" in text and "how are you?" in text
    assert "{" not in text and "go to the nearest hospital" not in text
    step = engine.step(helped.state, said("yes"), READY)
    assert refs(step) == ["crisis.third_party.step.1"] and "Ask them directly" in step.replies[0].text


def test_violence_points_to_the_gbv_line_and_safety_steps_never_the_suicide_plan(engine):
    outcome = engine.step({"flow": "menu"}, crisis("violence"), READY)
    text = outcome.replies[0].text
    assert GBV_LINE in text and EMERGENCY in text and CRISIS_LINE not in text
    assert text.startswith("Thank you for writing.")  # a preview on a shared phone gives nothing away
    assert "delete these messages" in text and "safety plan" not in text
    state, seen = outcome.state, []
    for word in ["YES", "NEXT", "NEXT"]:
        step = engine.step(state, said(word), READY)
        seen += refs(step)
        state = step.state
    assert seen == ["crisis.violence.step.1", "crisis.violence.step.2", "crisis.violence.step.3"]
    assert not any("safety_plan" in ref for ref in seen)
    assert refs(engine.step(state, said("NEXT"), READY)) == ["menu.main"]


def test_a_child_is_pointed_to_child_protection_open_now(engine):
    outcome = engine.step({}, crisis("child_safeguarding"), Profile())
    text = outcome.replies[0].text
    assert CHILD_LINE in text and "(opens" not in text
    assert "not your fault" in text and "grown-up" in text


def test_a_closed_service_is_never_named_as_open_and_the_emergency_number_stands_in(engine):
    late = engine.step({}, crisis("child_safeguarding", now=MONDAY_LATE), Profile())
    lines = late.replies[0].text.splitlines()
    assert f"{CHILD_LINE} (opens Tuesday at 07:00)" in lines
    assert CHILD_LINE not in lines and EMERGENCY in lines
    weekend = engine.step({}, crisis("sexual_violence", now=SATURDAY_NIGHT), Profile())
    lines = weekend.replies[0].text.splitlines()
    assert GBV_LINE in lines  # open round the clock
    assert f"{CLINIC} (opens Monday at 08:00)" in lines and CLINIC not in lines


def test_a_closed_service_opening_later_today_says_today(engine):
    early = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 06:00 in Nairobi
    lines = engine.step({}, crisis("child_safeguarding", now=early), Profile()).replies[0].text.splitlines()
    assert f"{CHILD_LINE} (opens today at 07:00)" in lines


def test_a_person_worried_about_someone_else_learns_how_to_help_and_is_asked_about_themselves(engine):
    outcome = engine.step({"flow": "menu"}, crisis("third_party"), READY)
    text = outcome.replies[0].text
    assert "how are you?" in text and "3 ways to help" in text and CRISIS_LINE in text
    step = engine.step(outcome.state, said("yes"), READY)
    assert refs(step) == ["crisis.third_party.step.1"] and "Ask them directly" in step.replies[0].text
    other = engine.step(step.state, said("I'm not ok either"), READY)
    assert refs(other) == ["crisis.third_party.followup"] and "you matter too" in other.replies[0].text


def test_first_message_in_crisis_then_yes_continues_the_plan_and_consent_comes_after(engine):
    first = engine.step({}, crisis("suicide"), Profile())
    assert refs(first) == ["crisis.suicide"] and first.consent is None
    state, profile = first.state, Profile()
    yes = engine.step(state, said("YES"), profile)
    assert refs(yes) == ["crisis.safety_plan.1"] and yes.consent is None
    state, seen = yes.state, []
    for _ in range(4):
        step = engine.step(state, said("NEXT"), profile)
        seen += refs(step)
        state = step.state
    assert seen == [f"crisis.safety_plan.{n}" for n in range(2, 6)]
    after = engine.step(state, said("NEXT"), profile)
    assert refs(after) == ["onboarding.welcome", "onboarding.consent"]  # asked after the plan
    assert after.state["flow"] == "consent"
    agreed = engine.step(after.state, said("YES"), profile)
    assert agreed.consent is not None and agreed.consent[0] == "given"


def test_moving_on_before_the_plan_ends_asks_consent_then(engine):
    first = engine.step({}, crisis("self_harm"), Profile())
    step = engine.step(first.state, said("yes"), Profile())
    assert refs(step) == ["crisis.safety_plan.1"]
    moved = engine.step(step.state, said("MENU"), Profile())
    assert refs(moved) == ["onboarding.welcome", "onboarding.consent"]


def test_anything_else_during_the_flow_gets_the_categorys_follow_up_with_an_honest_response_time(engine):
    outcome = engine.step({}, crisis("sexual_violence"), Profile())
    reply = engine.step(outcome.state, said("what do I do"), Profile())
    assert refs(reply) == ["crisis.sexual_violence.followup"]
    assert "soon" not in reply.replies[0].text and "No health worker is on duty" in reply.replies[0].text


def test_an_older_plan_without_a_pathway_goes_on_with_the_general_plan(engine):
    step = engine.step({"flow": "safety_plan", "plan_step": 2}, said("next"), READY)
    assert refs(step) == ["crisis.safety_plan.3"]


def test_an_opted_out_person_in_crisis_gets_no_message_but_a_case_with_its_category(engine):
    outcome = engine.step({"flow": "menu"}, crisis("violence", risk=RISK_IMMINENT),
                          Profile(locale="en", opted_out=True, consented=True))
    assert outcome.replies == [] and outcome.escalation[0] == "imminent" and outcome.case_category == "violence"


@pytest.mark.parametrize("locale", ["sw", "fr", "es"])
def test_translations_keep_the_ids_services_and_the_emergency_number(engine, locale):
    """Translations are drafts until a reviewer approves them: the approved English is sent
    meanwhile, with the same services and emergency number."""
    outcome = engine.step({}, crisis("violence", in_progress=True), Profile(locale=locale))
    assert refs(outcome) == ["crisis.in_progress"] and EMERGENCY in outcome.replies[0].text


CATEGORIES = ("suicide", "self_harm", "third_party", "command_hallucination", "violence", "child_safeguarding",
              "sexual_violence")


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """French and Swahili approved, as a reviewer would (tests/conversation/regional_support.py),
    and the Hindi and Arabic crisis text too."""
    library = build(tmp_path_factory.mktemp("reviewed") / "library")
    for locale in ("hi", "ar"):
        path = library / locale / "crisis.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("status: draft", "status: approved"),
                        encoding="utf-8")
    return Engine(ContentStore.from_library(library))


# The words a person replies with: their language's, or the English ones every language accepts.
WORDS = {"fr": ("OUI", "SUIVANT"), "sw": ("NDIYO", "ENDELEA"), "hi": ("YES", "NEXT"), "ar": ("YES", "NEXT")}
OPENS = {"fr": "ouvre mardi à 07:00", "sw": "inafunguliwa Jumanne saa 07:00", "hi": "मंगलवार 07:00 बजे खुलेगा",
         "ar": "يفتح الثلاثاء الساعة 07:00"}


@pytest.mark.parametrize("locale", ["fr", "sw", "hi", "ar"])
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_step_of_every_pathway_reads_in_an_approved_translation(reviewed, locale, category):
    profile = Profile(locale=locale, consented=True, region="demo")
    yes, next_ = WORDS[locale]
    for now in (MONDAY_NOON, MONDAY_LATE, SATURDAY_NIGHT):
        outcome = reviewed.step({"flow": "menu"}, crisis(category, now=now), profile)
        state, replies = outcome.state, list(outcome.replies)
        for word in ["?", yes, *[next_] * 5]:
            outcome = reviewed.step(state, said(word, now), profile)
            replies += outcome.replies
            state = outcome.state
            if state.get("flow") != "safety_plan":
                break
        assert state["flow"] == "menu"  # the steps end on the menu, in the person's words
        crisis_replies = [r for r in replies if r.kind == "crisis"]
        assert {r.locale for r in crisis_replies} == {locale}
        assert all("{" not in r.text for r in replies)
        if now == MONDAY_LATE and category == "child_safeguarding":
            assert any(OPENS[locale] in r.text for r in crisis_replies)


@pytest.mark.parametrize("locale", ["fr", "sw", "hi", "ar"])
@pytest.mark.parametrize("category, help_id, first_step", [
    ("suicide", "crisis.in_progress.help", "crisis.safety_plan.1"),
    ("violence", "crisis.in_progress.help", "crisis.violence.step.1"),
    ("third_party", "crisis.third_party.in_progress.help", "crisis.third_party.step.1"),
])
def test_harm_under_way_then_yes_reads_in_an_approved_translation(reviewed, locale, category, help_id, first_step):
    profile = Profile(locale=locale, consented=True, region="demo")
    yes = WORDS[locale][0]
    outcome = reviewed.step({"flow": "menu"}, crisis(category, in_progress=True), profile)
    helped = reviewed.step(outcome.state, said(yes), profile)
    assert refs(helped) == [help_id] and helped.replies[0].locale == locale and "{" not in helped.replies[0].text
    step = reviewed.step(helped.state, said(yes), profile)
    assert refs(step) == [first_step] and step.replies[0].locale == locale


@pytest.mark.parametrize("locale, words", [("en", "We are worried about your safety."), ("sw", "Tuna wasiwasi"),
                                           ("hi", "हमें आपकी सुरक्षा की चिंता है"), ("zu", "We are worried")])
def test_the_built_in_crisis_text_carries_the_regions_numbers_in_the_persons_language(engine, locale, words):
    from bot.conversation import builtin

    reply = builtin.reply(engine.content, "demo", locale)
    assert reply.text.startswith(words) and reply.kind == "crisis" and reply.ref == builtin.REF
    assert EMERGENCY in reply.text and CRISIS_LINE in reply.text
    assert EMERGENCY in builtin.reply(engine.content, "no-such-region", locale).text  # the first region's


def test_a_first_message_in_crisis_keeps_its_language_for_the_replies_that_follow(engine):
    if "sw" not in engine.enabled_locales():
        pytest.skip("Swahili is not served by this library")
    first = engine.step({}, Turn("nataka kujiua", "sms", risk=RISK_HIGH, risk_rules=("sw.suicide.kujiua",),
                                 category="suicide", now=MONDAY_NOON), Profile())
    assert refs(first) == ["crisis.suicide"] and first.replies[0].locale == "sw"
    unsure = engine.step(first.state, said("sijui"), Profile())  # no language detected in two words
    assert refs(unsure) == ["crisis.suicide.followup"] and unsure.replies[0].locale == "sw"
    plan = engine.step(unsure.state, said("NDIYO"), Profile())
    assert refs(plan) == ["crisis.safety_plan.1"] and plan.replies[0].locale == "sw"
