"""The conversation engine, table by table, on the real starter library.

The engine is pure, so each row is (state, profile, message) -> what is said
and how the state moves. Risk arrives with the turn, as the worker computes it
with the safety gate before the engine runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation import Engine, Generated, Profile, Turn
from bot.conversation.types import RISK_CONCERN, RISK_HIGH, RISK_IMMINENT
from content.store import ContentStore

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
READY = Profile(locale="en", consented=True)
CODE = "482193"  # the worker draws a fresh one each turn


@pytest.fixture(scope="module")
def content() -> ContentStore:
    return ContentStore.from_library(LIBRARY)


@pytest.fixture(scope="module")
def engine(content) -> Engine:
    return Engine(content)


def refs(outcome) -> list[str]:
    return [r.ref.split("@")[0] for r in outcome.replies]


def run(engine: Engine, messages: list[str], profile: Profile | None = None, state=None, risk=None):
    """Play a conversation, carrying state and profile the way the worker does."""
    profile = profile if profile is not None else Profile()
    state = dict(state or {})
    outcome = None
    for text in messages:
        outcome = engine.step(state, Turn(text, "sms", risk=(risk or {}).get(text, 0), delete_code=CODE), profile)
        state = outcome.state
        profile = Profile(
            locale=outcome.locale or profile.locale,
            opted_out=(profile.opted_out or outcome.opt_out) and not outcome.opt_in,
            consented=profile.consented or bool(outcome.consent and outcome.consent[0] == "given"),
            region=profile.region,
        )
    return outcome, state, profile


@pytest.mark.parametrize("state, profile, text, expected_refs, expected_flow", [
    ({}, Profile(), "Hi", ["onboarding.welcome", "onboarding.consent"], "consent"),
    ({"flow": "consent", "consent_locale": "en"}, Profile(), "YES", ["menu.main"], "menu"),
    ({"flow": "consent", "consent_locale": "en"}, Profile(), "no", ["onboarding.consent_declined"], "consent"),
    ({"flow": "consent", "consent_locale": "en"}, Profile(), "what?", ["onboarding.consent"], "consent"),
    ({"flow": "menu"}, READY, "2", ["module.sleep.1"], "module"),
    ({"flow": "menu"}, READY, "99", ["fallback.not_understood"], "menu"),
    ({"flow": "module", "module": "sleep", "step": 0}, READY, "NEXT", ["module.sleep.2"], "module"),
    ({"flow": "module", "module": "sleep", "step": 1}, READY, "back", ["module.sleep.1"], "module"),
    ({"flow": "module", "module": "sleep", "step": 3}, READY, "next", ["feedback.rate"], "rating"),
    ({"flow": "module", "module": "sleep", "step": 3, "rated": ["sleep"]}, READY, "next", ["menu.main"], "menu"),
    ({"flow": "rating", "module": "sleep"}, READY, "4", ["feedback.thanks", "menu.main"], "menu"),
    ({"flow": "rating", "module": "sleep"}, READY, "MENU", ["menu.main"], "menu"),
    ({"flow": "module", "module": "sleep", "step": 1}, READY, "MENU", ["menu.main"], "menu"),
    ({"flow": "menu"}, READY, "HELP", ["keywords.help"], "menu"),
    ({"flow": "menu"}, READY, "bot", ["keywords.bot"], "menu"),
    ({"flow": "menu"}, READY, "DATA", ["keywords.data"], "menu"),
    ({"flow": "menu"}, READY, "DELETE", ["keywords.delete_code"], "delete"),
    ({"flow": "delete", "resume": "menu"}, READY, "no", ["keywords.delete_cancelled"], "menu"),
    ({"flow": "menu"}, READY, "9", ["screening.phq2.intro", "screening.phq2.scale", "screening.phq2.q1"],
     "screening"),
    ({"flow": "menu"}, READY, "10", ["screening.phq9.intro", "screening.phq9.scale", "screening.phq9.q1"],
     "screening"),
    ({"flow": "menu"}, READY, "11", ["screening.gad7.intro", "screening.gad7.scale", "screening.gad7.q1"],
     "screening"),
])
def test_turns(engine, state, profile, text, expected_refs, expected_flow):
    outcome = engine.step(state, Turn(text, "sms"), profile)
    assert refs(outcome) == expected_refs
    assert outcome.state.get("flow") == expected_flow


def test_every_module_on_the_menu_can_be_walked_to_the_end(engine, content):
    for number, target, _title in engine.menu_entries("en"):
        if not target.startswith("module:"):
            continue
        module = content.module(target.split(":", 1)[1])
        outcome, state, _ = run(engine, [str(number)] + ["next"] * (len(module.steps) - 1),
                                READY, {"flow": "menu"})
        assert refs(outcome) == [module.steps[-1]]
        outcome = engine.step(state, Turn("next", "sms"), READY)
        assert (f"module_completed:{module.id}", {"locale": "en"}) in outcome.audit
        assert refs(outcome) == ["feedback.rate"]


def _finished(module: str = "sleep") -> dict:
    return {"flow": "rating", "module": module, "rated": [module]}


@pytest.mark.parametrize("answer, rating", [("5", 5), (" 1. ", 1), ("\u0663", 3), ("\u0968", 2)])
def test_a_bare_digit_after_a_module_is_recorded_as_its_rating_and_nothing_else(engine, answer, rating):
    outcome = engine.step(_finished(), Turn(answer, "sms"), READY)
    assert ("module_rated", {"module": "sleep", "locale": "en", "rating": rating}) in outcome.audit
    assert refs(outcome) == ["feedback.thanks", "menu.main"] and outcome.state["flow"] == "menu"


@pytest.mark.parametrize("answer", ["0", "6", "45", "5 it was good", "great", "3/5"])
def test_anything_but_a_digit_on_the_scale_records_no_rating_and_is_handled_as_usual(engine, answer):
    outcome = engine.step(_finished(), Turn(answer, "sms"), READY)
    assert not [a for a, _ in outcome.audit if a == "module_rated"]
    assert "feedback.thanks" not in refs(outcome) and outcome.state["flow"] != "rating"
    assert all(answer not in str(detail) for _, detail in outcome.audit)


def test_the_rating_is_asked_once_per_module_and_only_in_the_persons_own_locale(engine, content):
    steps = len(content.module("sleep").steps)
    walk = ["2"] + ["next"] * steps
    outcome, state, _ = run(engine, walk, READY, {"flow": "menu"})
    assert refs(outcome) == ["feedback.rate"] and outcome.replies[0].locale == "en"
    outcome, state, _ = run(engine, ["great, thanks"] + walk, READY, state)
    assert refs(outcome) == ["menu.main"]  # finished again: not asked twice
    library = content.library
    english_only = tuple(
        replace(m, texts=tuple(t for t in m.texts if t.locale == "en")) if m.id == "feedback.rate" else m
        for m in library.messages
    )
    without = Engine(ContentStore(replace(library, messages=english_only)))
    swahili = Profile(locale="sw", consented=True)
    outcome, _, _ = run(without, walk, swahili, {"flow": "menu"})
    assert "feedback.rate" not in refs(outcome) and outcome.state["flow"] == "menu"


def test_stop_then_silence_then_start(engine):
    outcome, state, profile = run(engine, ["Hi", "YES", "STOP"])
    assert outcome.opt_out and refs(outcome) == ["keywords.stop_confirmation"]
    assert outcome.replies[0].kind == "optout_confirmation"
    for text in ["hello", "STOP", "2", "HELP"]:
        assert engine.step(state, Turn(text, "sms"), profile).replies == []
    outcome = engine.step(state, Turn("START", "sms"), profile)
    assert outcome.opt_in and refs(outcome)[0] == "keywords.start_confirmation"


@pytest.mark.parametrize("risk, severity", [(RISK_HIGH, "high"), (RISK_IMMINENT, "imminent")])
@pytest.mark.parametrize("state, profile", [
    ({}, Profile()),  # before consent: safety comes first
    ({"flow": "module", "module": "sleep", "step": 2}, READY),
    ({"flow": "screening", "instrument": "gad7", "answers": [1, 2]}, READY),
])
def test_crisis_gets_the_crisis_reply_first_from_any_flow(engine, state, profile, risk, severity):
    outcome = engine.step(state, Turn("I want to end it all", "sms", risk=risk, risk_rules=("r1",)), profile)
    assert refs(outcome) == ["crisis.immediate"]
    assert outcome.replies[0].kind == "crisis"
    assert "DEMO" in outcome.replies[0].text  # the region's helplines
    assert outcome.escalation == (severity, ("r1",)) and outcome.pause
    assert outcome.state["flow"] == "safety_plan"


def test_crisis_message_is_human_written_in_the_persons_locale(engine):
    outcome = engine.step({}, Turn("nataka kufa", "sms", risk=RISK_HIGH), Profile(locale="sw"))
    assert outcome.replies[0].ref == "crisis.immediate@1" and outcome.replies[0].locale == "sw"
    assert "Nina wasiwasi" in outcome.replies[0].text


def test_a_first_message_in_crisis_is_answered_in_the_language_of_the_words_found(engine):
    outcome = engine.step({}, Turn("nataka kujiua", "sms", risk=RISK_HIGH, risk_rules=("sw.suicide.kujiua",)),
                          Profile())
    assert [(r.item_id, r.locale) for r in outcome.replies] == [("crisis.immediate", "sw")]


def test_safety_plan_walks_five_steps_and_saying_you_misunderstood_does_not_close_anything(engine):
    outcome = engine.step({}, Turn("x", "sms", risk=RISK_HIGH), READY)
    state = outcome.state
    outcome = engine.step(state, Turn("you misunderstood me", "sms"), READY)
    assert refs(outcome) == ["crisis.followup"] and outcome.escalation is None
    state = outcome.state
    seen = []
    for _ in range(5):
        outcome = engine.step(state, Turn("YES" if not seen else "next", "sms"), READY)
        seen += refs(outcome)
        state = outcome.state
    assert seen == [f"crisis.safety_plan.{i}" for i in range(1, 6)]
    assert engine.step(state, Turn("next", "sms"), READY).state["flow"] == "menu"


def test_opted_out_person_in_crisis_gets_no_message_but_a_case_opens(engine):
    outcome = engine.step({"flow": "menu"}, Turn("I will kill myself", "sms", risk=RISK_IMMINENT),
                          Profile(locale="en", opted_out=True, consented=True))
    assert outcome.replies == []
    assert outcome.escalation[0] == "imminent"


def test_concern_is_recorded_without_changing_the_conversation(engine):
    outcome = engine.step({"flow": "menu"}, Turn("2", "sms", risk=RISK_CONCERN, risk_rules=("en.distress",)), READY)
    assert refs(outcome) == ["module.sleep.1"]
    assert ("safety.concern", {"rules": ["en.distress"]}) in outcome.audit


@pytest.mark.parametrize("text", ["i dont see the point anymore honestly", "asdf qwerty"])
def test_distress_nothing_else_places_gets_support_never_didnt_understand(engine, text):
    heard = engine.step({"flow": "menu"}, Turn(text, "sms", risk=RISK_CONCERN, risk_rules=("clf:concern",)), READY)
    assert refs(heard) == ["support.general"]
    assert "TALK" in heard.replies[0].text and "1." in heard.replies[0].text
    # Without the gate's concern, words nothing understands still get the honest fallback.
    plain = engine.step({"flow": "menu"}, Turn("asdf qwerty", "sms"), READY)
    assert refs(plain) == ["fallback.not_understood"]


def test_phq9_is_scored_deterministically_and_explained_with_the_band(engine):
    outcome, state, _ = run(engine, ["10"] + ["2"] * 8 + ["0"], READY, {"flow": "menu"})
    assert refs(outcome) == ["screening.phq9.band.moderately_severe", "screening.phq9.help"]
    assert "16 of 27" in outcome.replies[0].text
    # The score is said to the person, never written in the clear: the record has the band only.
    assert ("screening_completed", {"instrument": "phq9", "band": "moderately severe"}) in outcome.audit
    assert "16" not in repr(outcome.audit)


def test_phq9_item_9_above_zero_always_goes_through_the_crisis_path(engine):
    outcome, state, _ = run(engine, ["10"] + ["0"] * 8 + ["1"], READY, {"flow": "menu"})
    # The item asks about thoughts of death or self-harm: the suicide pathway first, then the score
    # and what it means; the completion is counted like any other.
    assert refs(outcome) == ["crisis.suicide", "screening.phq9.band.minimal", "screening.phq9.help"]
    assert "1 of 27" in outcome.replies[1].text
    assert outcome.escalation == ("high", ("screening:phq9:q9",)) and outcome.case_category == "suicide"
    assert ("screening_completed", {"instrument": "phq9", "band": "minimal"}) in outcome.audit
    assert state["flow"] == "safety_plan"


def test_gad7_invalid_answer_repeats_the_question(engine):
    outcome, state, _ = run(engine, ["11", "4"], READY, {"flow": "menu"})
    assert refs(outcome) == ["screening.invalid_answer", "screening.gad7.q1"]
    assert state["answers"] == []


def test_free_text_is_matched_to_a_module_before_the_dialogue_model(content):
    engine = Engine(content, intents=lambda text, locale: "sleep" if "sleep" in text else None,
                    dialogue=lambda text, locale, text_lang, region: Generated("I hear you.", "generated:tiny@1"))
    matched = engine.step({"flow": "menu"}, Turn("I can't sleep at night", "sms"), READY)
    assert refs(matched) == ["module.sleep.1"]
    generated = engine.step({"flow": "menu"}, Turn("my brother shouts at me", "sms"), READY)
    assert [(r.ref, r.kind, r.text) for r in generated.replies][0] == ("generated:tiny@1", "generated", "I hear you.")
    assert refs(generated)[1:] == ["dialogue.options"]  # the closest topics and TALK follow
    assert ("reply.generated", {"model": "generated:tiny@1"}) in generated.audit


def test_a_blocked_generation_sends_the_approved_fallback(content):
    engine = Engine(content, dialogue=lambda text, locale, text_lang, region: Generated(None, "generated:tiny@1", "medication"))
    outcome = engine.step({"flow": "menu"}, Turn("what pills should I take", "sms"), READY)
    assert refs(outcome) == ["fallback.generation_blocked"]
    assert ("generation.blocked", {"rule": "medication", "model": "generated:tiny@1"}) in outcome.audit


def test_delete_confirmed_with_its_code_erases_and_stops_messages(engine):
    asked = engine.step({"flow": "menu"}, Turn("DELETE", "sms", delete_code=CODE), READY)
    assert f"DELETE {CODE}" in asked.replies[0].text
    for answer in (f"DELETE {CODE}", CODE, f"delete {CODE}.", "٤٨٢١٩٣"):
        outcome = engine.step(asked.state, Turn(answer, "sms", delete_code="111111"), READY)
        assert outcome.erase and outcome.opt_out, answer
        assert refs(outcome) == ["keywords.delete_done"] and outcome.state == {}


def test_a_bare_yes_or_a_wrong_code_never_erases(engine):
    _, state, _ = run(engine, ["DELETE"], READY, {"flow": "menu"})
    again = engine.step(state, Turn("YES", "sms", delete_code="111111"), READY)
    assert not again.erase and refs(again) == ["keywords.delete_code"]
    assert CODE in again.replies[0].text and again.state["flow"] == "delete"
    wrong = engine.step(again.state, Turn("DELETE 123456", "sms", delete_code="111111"), READY)
    assert not wrong.erase and refs(wrong) == ["keywords.delete_cancelled"] and wrong.state["flow"] == "menu"
    # The old code is spent: it no longer erases once the request was cancelled.
    late = engine.step(wrong.state, Turn(CODE, "sms", delete_code="111111"), READY)
    assert not late.erase


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
FLOWS = st.sampled_from([{}, {"flow": "menu"}, {"flow": "consent", "consent_locale": "en"},
                         {"flow": "module", "module": "sleep", "step": 1}, {"flow": "language"},
                         {"flow": "screening", "instrument": "phq9", "answers": [1, 1]},
                         {"flow": "safety_plan", "plan_step": 2}, {"flow": "delete", "resume": "menu"},
                         {"flow": "region"}])
PROFILES = st.builds(Profile, locale=st.sampled_from([None, "en", "sw", "fr"]), opted_out=st.booleans(),
                     consented=st.booleans(), region=st.sampled_from([None, "demo", "elsewhere"]),
                     accepted_locales=st.sampled_from([(), ("sw", "en"), ("fr", "sw")]))


@settings(max_examples=300, deadline=None)
@given(state=FLOWS, profile=PROFILES, text=TEXT, risk=st.sampled_from([0, 1, 2, 3]))
def test_no_input_crashes_the_engine_and_invariants_hold(engine, state, profile, text, risk):
    outcome = engine.step(state, Turn(text, "sms", risk=risk), profile)
    if profile.opted_out:
        assert all(r.item_id == "keywords.start_confirmation" or r.item_id == "menu.main" for r in outcome.replies)
    elif risk >= RISK_HIGH and not outcome.opt_out:
        assert outcome.replies and outcome.replies[0].item_id == "crisis.immediate"
    for reply in outcome.replies:
        assert reply.text.strip() and "{" not in reply.text
