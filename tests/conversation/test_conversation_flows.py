"""One table per flow: (where the person is, what they send) -> which flow answers, what is said,
and where they are after.

Every row also checks which flow the engine routes the turn to (``Engine.route``), so the tables
pin the order of precedence as well as each flow: a row whose ``by`` names another flow shows a
turn that this flow's state or words do not get, because something comes first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.conversation import Engine, Generated, Profile, Turn
from bot.conversation.types import CASE_OPEN, RISK_CONCERN, RISK_HIGH, RISK_IMMINENT, WITH_STAFF, Understanding
from content.store import ContentStore

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
READY = Profile(locale="en", consented=True)
NEW = Profile()
OPTED_OUT = Profile(locale="en", consented=True, opted_out=True)
CODE = "482193"
MODULE = {"flow": "module", "module": "sleep", "step": 1}
ASKED_DELETE = {"flow": "delete", "resume": "menu", "delete_code": CODE}
PHQ9 = ["screening.phq9.intro", "screening.phq9.scale", "screening.phq9.q1"]


@dataclass(frozen=True)
class Row:
    state: dict[str, Any]
    text: str
    said: list[str]  # the item ids of the replies, in order
    then: str | None  # the state's flow after the turn
    profile: Profile = READY
    risk: int = 0
    case: str | None = None
    media: int = 0
    category: str | None = None
    in_progress: bool = False
    events: tuple[str, ...] | None = None  # when given: exactly the turn's events
    audit: tuple[str, ...] | None = None  # when given: exactly the audit actions, in order
    by: str | None = None  # the flow that answers, when not the table's own
    extra: dict[str, Any] = field(default_factory=dict)  # state keys and values expected after the turn
    ask: str | None = None  # the gate's leaning, when a crisis is possible but not clear
    now: datetime | None = None
    detected: str | None = None  # the served language the worker found the text confidently in


def turn_for(row: Row) -> Turn:
    return Turn(row.text, "sms", num_media=row.media, risk=row.risk, risk_rules=("r1",) if row.risk else (),
                delete_code=CODE, case=row.case, category=row.category, in_progress=row.in_progress,
                ask=row.ask, now=row.now, detected_locale=row.detected)


def check(engine: Engine, flow: str, row: Row) -> None:
    turn = turn_for(row)
    assert engine.route(row.state, turn, row.profile) == (row.by or flow)
    outcome = engine.step(row.state, turn, row.profile)
    assert [r.item_id for r in outcome.replies] == row.said
    assert outcome.state.get("flow") == row.then
    if row.events is not None:
        assert tuple(outcome.events) == row.events
    if row.audit is not None:
        assert tuple(action for action, _ in outcome.audit) == row.audit
    for key, value in row.extra.items():
        assert outcome.state.get(key) == value, key


def table(rows: list[Row]) -> Any:
    return pytest.mark.parametrize("row", rows, ids=[f"{i}:{r.text or '<media>'}" for i, r in enumerate(rows)])


class Understands:
    """A stand-in understander: fixed readings of a few phrases, nothing for anything else."""

    READINGS = {
        "i need a real person": Understanding(talk=True),
        "i can't sleep": Understanding(targets=("module:sleep",), confident=True),
        "i feel so alone": Understanding(theme="lonely", targets=("module:support",)),
        "stressed and tired": Understanding(targets=("module:stress", "module:sleep")),
    }

    def understand(self, text: str, locale: str) -> Understanding:
        return self.READINGS.get(text.casefold(), Understanding(nearest=("module:stress",)))


def dialogue(text: str, locale: str, text_lang: str, region: str) -> Generated | None:
    if "pills" in text:
        return Generated(None, "generated:tiny@1", "medication")
    return Generated("I hear you.", "generated:tiny@1") if "brother" in text else None


@pytest.fixture(scope="module")
def content() -> ContentStore:
    return ContentStore.from_library(LIBRARY)


@pytest.fixture(scope="module")
def engine(content) -> Engine:
    return Engine(content)


@pytest.fixture(scope="module")
def listening(content) -> Engine:
    return Engine(content, intents=Understands(), dialogue=dialogue)


@pytest.fixture(scope="module")
def regional(regional_library) -> Engine:
    return Engine(ContentStore.from_library(regional_library))


# -- 1. the gates -------------------------------------------------------------------------
OPTED_OUT_ROWS = [
    Row({"flow": "menu"}, "hello", [], "menu", OPTED_OUT, events=()),
    Row({"flow": "menu"}, "HELP", [], "menu", OPTED_OUT),
    Row({"flow": "menu"}, "STOP", [], "menu", OPTED_OUT),
    Row({"flow": "menu"}, "DELETE", [], "menu", OPTED_OUT),
    Row({"flow": "module", "module": "sleep", "step": 1}, "START", ["keywords.start_confirmation", "menu.main"],
        "menu", OPTED_OUT, events=("opt_in",)),
    Row({"flow": "consent", "consent_locale": "en"}, "START", ["keywords.start_confirmation"], "consent",
        Profile(locale="en", opted_out=True), events=("opt_in",)),
    # A crisis opens a case, and still nothing is sent.
    Row({"flow": "menu"}, "(crisis words)", [], "menu", OPTED_OUT, risk=RISK_IMMINENT, events=("crisis:imminent",)),
]


@table(OPTED_OUT_ROWS)
def test_opted_out(engine, row):
    check(engine, "opted_out", row)


STOP_ROWS = [
    Row({"flow": "menu"}, "STOP", ["keywords.stop_confirmation"], "menu", events=("opt_out",)),
    Row(MODULE, "stop", ["keywords.stop_confirmation"], "module"),
    Row({}, "STOP", ["keywords.stop_confirmation"], None, NEW),
    Row({"flow": "safety_plan", "plan_step": 1}, "STOP", ["keywords.stop_confirmation"], "safety_plan"),
    Row(ASKED_DELETE, "STOP", ["keywords.stop_confirmation"], "delete"),
    Row({"flow": "menu"}, "STOP", ["keywords.stop_confirmation"], "menu", case=WITH_STAFF),
    # STOP is honoured even when the gate reads risk in it: the worker has already opened the case.
    Row({"flow": "menu"}, "STOP", ["keywords.stop_confirmation"], "menu", risk=RISK_HIGH, events=("opt_out",)),
]


@table(STOP_ROWS)
def test_stop(engine, row):
    check(engine, "stop", row)


CRISIS_ROWS = [
    Row({"flow": "menu"}, "(crisis words)", ["crisis.immediate"], "safety_plan", risk=RISK_HIGH,
        events=("crisis:high",)),
    Row({}, "(crisis words)", ["crisis.immediate"], "safety_plan", NEW, risk=RISK_HIGH),
    Row(MODULE, "(crisis words)", ["crisis.immediate"], "safety_plan", risk=RISK_IMMINENT),
    Row({"flow": "screening", "instrument": "gad7", "answers": [1]}, "(crisis words)", ["crisis.immediate"],
        "safety_plan", risk=RISK_HIGH),
    Row(ASKED_DELETE, "(crisis words)", ["crisis.immediate"], "safety_plan", risk=RISK_HIGH),
    Row({"flow": "menu"}, "HELP", ["crisis.immediate"], "safety_plan", risk=RISK_HIGH),
    Row({"flow": "menu"}, "(crisis words)", ["crisis.immediate"], "safety_plan", risk=RISK_HIGH, case=WITH_STAFF),
    Row({"flow": "menu"}, "(crisis words)", ["crisis.violence"], "safety_plan", risk=RISK_HIGH, category="violence",
        events=("crisis:high", "crisis.pathway:violence"), extra={"pathway": "violence", "plan_step": 0}),
    Row({"flow": "menu"}, "(crisis words)", ["crisis.in_progress"], "safety_plan", risk=RISK_HIGH,
        category="suicide", in_progress=True, events=("crisis:imminent", "crisis.pathway:suicide"),
        extra={"in_progress": True}),
    # Someone else's harm under way: how to get help to them, not "if you are hurt, go to hospital".
    Row({"flow": "menu"}, "(crisis words)", ["crisis.third_party.in_progress"], "safety_plan", risk=RISK_HIGH,
        category="third_party", in_progress=True, events=("crisis:imminent", "crisis.pathway:third_party")),
    # A concern is recorded and the conversation goes on: not the crisis flow.
    Row({"flow": "menu"}, "2", ["module.sleep.1"], "module", risk=RISK_CONCERN, by="menu",
        audit=("safety.concern", "module_started:sleep")),
]


@table(CRISIS_ROWS)
def test_crisis(engine, row):
    check(engine, "crisis", row)


# -- 2. what outranks where the person is -------------------------------------------------
WITH_STAFF_ROWS = [
    Row({"flow": "menu"}, "hello", ["handoff.staff_with_you"], "menu", case=WITH_STAFF, audit=("handoff.to_case",),
        extra={"with_staff": True}),
    Row({"flow": "menu", "with_staff": True}, "thank you", [], "menu", case=WITH_STAFF, audit=("handoff.to_case",)),
    Row(MODULE, "YES", ["handoff.staff_with_you"], "module", case=WITH_STAFF),  # a yes answers the health worker
    Row({"flow": "menu", "with_staff": True}, "2", [], "menu", case=WITH_STAFF),
    Row({**MODULE, "with_staff": True}, "MENU", ["menu.main"], "menu", case=WITH_STAFF, events=("handoff_left",),
        extra={"with_staff": None}),
    # The carrier keywords and erasure still work; a pending DELETE question is answered first.
    Row({"flow": "menu"}, "HELP", ["keywords.help"], "menu", case=WITH_STAFF, by="info"),
    Row({"flow": "menu"}, "DELETE", ["keywords.delete_code"], "delete", case=WITH_STAFF, by="erasure"),
    Row(ASKED_DELETE, "hello", ["keywords.delete_cancelled"], "menu", case=WITH_STAFF, by="erasure"),
    # Once staff have left, the notice is due again next time.
    Row({"flow": "menu", "with_staff": True}, "2", ["module.sleep.1"], "module", case=CASE_OPEN, by="menu",
        extra={"with_staff": None}),
]


@table(WITH_STAFF_ROWS)
def test_with_staff(engine, row):
    check(engine, "with_staff", row)


INFO_ROWS = [
    Row({"flow": "menu"}, "HELP", ["keywords.help"], "menu"),
    Row({"flow": "menu"}, "bot", ["keywords.bot"], "menu"),
    Row({"flow": "menu"}, "DATA", ["keywords.data"], "menu"),
    Row(MODULE, "help", ["keywords.help"], "module", extra={"step": 1}),
    Row({"flow": "consent", "consent_locale": "en"}, "HELP", ["keywords.help"], "consent", NEW),
    Row({"flow": "menu"}, "MSAADA", ["keywords.help"], "menu", Profile(locale="sw", consented=True)),
]


@table(INFO_ROWS)
def test_info(engine, row):
    check(engine, "info", row)


LANGUAGE_KEYWORD_ROWS = [
    Row({"flow": "menu"}, "LANGUAGE", ["onboarding.choose_language"], "language"),
    Row(MODULE, "language", ["onboarding.choose_language"], "language"),
    Row({"flow": "consent", "consent_locale": "en"}, "LANGUAGE", ["onboarding.choose_language"], "language", NEW),
]


@table(LANGUAGE_KEYWORD_ROWS)
def test_language_keyword(engine, row):
    check(engine, "language_keyword", row)


ERASURE_ROWS = [
    Row({"flow": "menu"}, "DELETE", ["keywords.delete_code"], "delete", extra={"resume": "menu", "delete_code": CODE}),
    Row(MODULE, "DELETE", ["keywords.delete_code"], "delete", extra={"resume": "module"}),
    Row({**ASKED_DELETE, "resume": "module"}, "DELETE", ["keywords.delete_code"], "delete",
        extra={"resume": "module"}),
    Row(ASKED_DELETE, f"DELETE {CODE}", ["keywords.delete_done"], None, events=("erasure_requested",)),
    Row(ASKED_DELETE, "\u0664\u0668\u0662\u0661\u0669\u0663", ["keywords.delete_done"], None),
    Row(ASKED_DELETE, "YES", ["keywords.delete_code"], "delete", events=("erasure_code_missing",)),
    Row(ASKED_DELETE, "no", ["keywords.delete_cancelled"], "menu", extra={"delete_code": None}),
    Row({**ASKED_DELETE, "resume": "module"}, "DELETE 123456", ["keywords.delete_cancelled"], "module"),
    # Before consent too.
    Row({"flow": "consent", "consent_locale": "en"}, "DELETE", ["keywords.delete_code"], "delete", NEW),
]


@table(ERASURE_ROWS)
def test_erasure(engine, row):
    check(engine, "erasure", row)


MEDIA_ONLY_ROWS = [
    Row({"flow": "menu"}, "", ["fallback.media_only"], "menu", media=1),
    Row(MODULE, "  ", ["fallback.media_only"], "module", media=2),
    Row({}, "", ["fallback.media_only"], None, NEW, media=1),
    # Words with the picture are read as words.
    Row({"flow": "menu"}, "2", ["module.sleep.1"], "module", media=1, by="menu"),
]


@table(MEDIA_ONLY_ROWS)
def test_media_only(engine, row):
    check(engine, "media_only", row)


FIRST_CONTACT_PLAN = {"flow": "safety_plan", "plan_step": 0, "consent_locale": "en"}
SAFETY_PLAN_ROWS = [
    # First contact in crisis: the plan goes on before onboarding, and consent comes after it.
    Row(FIRST_CONTACT_PLAN, "YES", ["crisis.safety_plan.1"], "safety_plan", NEW, extra={"plan_step": 1}),
    Row(FIRST_CONTACT_PLAN, "what do I do", ["crisis.followup"], "safety_plan", NEW),
    Row(FIRST_CONTACT_PLAN, "MENU", ["onboarding.welcome", "onboarding.consent"], "consent", NEW),
    Row({"flow": "safety_plan", "plan_step": 0}, "yes", ["crisis.safety_plan.1"], "safety_plan"),
    Row({"flow": "safety_plan", "plan_step": 4}, "next", ["crisis.safety_plan.5"], "safety_plan",
        events=("safety_plan_completed",)),
    Row({"flow": "safety_plan", "plan_step": 5}, "next", ["menu.main"], "menu", extra={"plan_step": None}),
    Row({"flow": "safety_plan", "plan_step": 2}, "you misunderstood me", ["crisis.followup"], "safety_plan",
        events=()),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "violence"}, "yes", ["crisis.violence.step.1"],
        "safety_plan"),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "suicide", "in_progress": True}, "I feel dizzy",
        ["crisis.in_progress.followup"], "safety_plan", extra={"in_progress": True}),
    # YES while harm is under way: help is there, so what to tell the people helping, in the
    # pathway's own words when it has them; the next YES starts the pathway's steps.
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "suicide", "in_progress": True}, "yes",
        ["crisis.in_progress.help"], "safety_plan", extra={"in_progress": None, "plan_step": 0}),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "suicide"}, "yes", ["crisis.safety_plan.1"],
        "safety_plan", extra={"plan_step": 1}),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "violence", "in_progress": True}, "next",
        ["crisis.in_progress.help"], "safety_plan", extra={"in_progress": None, "plan_step": 0}),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "third_party", "in_progress": True}, "what do i do",
        ["crisis.third_party.in_progress.followup"], "safety_plan", extra={"in_progress": True}),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "third_party", "in_progress": True}, "yes",
        ["crisis.third_party.in_progress.help"], "safety_plan", extra={"in_progress": None, "plan_step": 0}),
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "third_party"}, "yes", ["crisis.third_party.step.1"],
        "safety_plan", extra={"plan_step": 1}),
    # After the help message, anything but YES gets the pathway's ordinary follow-up.
    Row({"flow": "safety_plan", "plan_step": 0, "pathway": "suicide"}, "they are here now", ["crisis.suicide.followup"],
        "safety_plan"),
    # Once consented, MENU and the reminder keywords come before the plan.
    Row({"flow": "safety_plan", "plan_step": 2}, "MENU", ["menu.main"], "menu", by="menu_keyword"),
    Row({"flow": "safety_plan", "plan_step": 2}, "PAUSE", ["keywords.pause_confirmation"], "safety_plan",
        by="schedule"),
]


@table(SAFETY_PLAN_ROWS)
def test_safety_plan(engine, row):
    check(engine, "safety_plan", row)


NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
ASK_ROWS = [
    # A possible crisis is asked about directly, wherever the person is, and the day is noted.
    Row({"flow": "menu"}, "i just want everything to stop", ["safety.ask"], "safety_check", risk=RISK_CONCERN,
        ask="suicide", now=NOW, audit=("safety.concern", "safety.asked"),
        extra={"safety_asked_from": "menu", "safety_asked_at": NOW.isoformat()}),
    Row(MODULE, "he comes home angry every night", ["safety.ask"], "safety_check", risk=RISK_CONCERN,
        ask="violence", extra={"safety_asked_from": "module", "module": "sleep"}),
    # First contact: the question comes before the welcome, in the language written in...
    Row({}, "i just want everything to stop", ["safety.ask"], "safety_check", NEW, risk=RISK_CONCERN,
        ask="suicide", detected="en", extra={"safety_asked_from": "new", "consent_locale": "en"}),
    Row({}, "sitaki kitu chochote tena", ["safety.ask"], "safety_check", NEW, risk=RISK_CONCERN,
        ask="suicide", detected="sw", extra={"consent_locale": "sw"}),
    # ...and never in English to a person whose language is not known: the language menu.
    Row({}, "waan daalay, wax walba way i dhibayaan", ["onboarding.languages"], "language", NEW,
        risk=RISK_CONCERN, ask="suicide", by="onboarding"),
    # Once a day at most: asked an hour ago, the distress gets its supportive reply.
    Row({"flow": "menu", "safety_asked_at": (NOW - timedelta(hours=1)).isoformat()}, "it's all too much",
        ["support.general"], "menu", risk=RISK_CONCERN, ask="suicide", now=NOW, by="free_text"),
    Row({"flow": "menu", "safety_asked_at": (NOW - timedelta(hours=25)).isoformat()}, "it's all too much",
        ["safety.ask"], "safety_check", risk=RISK_CONCERN, ask="suicide", now=NOW),
    # A keyword, an open crisis or a clear crisis come first.
    Row({"flow": "menu"}, "TALK", ["handoff.requested"], "menu", risk=RISK_CONCERN, ask="suicide", by="talk"),
    Row({"flow": "safety_plan", "plan_step": 2}, "i cant do this", ["crisis.followup"], "safety_plan",
        risk=RISK_CONCERN, ask="suicide", by="safety_plan"),
    Row({"flow": "menu"}, "(crisis words)", ["crisis.immediate"], "safety_plan", risk=RISK_HIGH, by="crisis"),
]


@table(ASK_ROWS)
def test_safety_ask(engine, row):
    check(engine, "safety_ask", row)


ASKED = {"flow": "safety_check", "safety_asked_from": "menu", "safety_asked_at": NOW.isoformat()}
ASKED_FIRST = {"flow": "safety_check", "safety_asked_from": "new", "consent_locale": "en"}
DISCLOSED_EVENTS = ("crisis:high", "crisis.pathway:disclosed")
SAFETY_ANSWER_ROWS = [
    # YES, alone or leading a short reply, in the person's language: the crisis reply and a case.
    Row(ASKED, "YES", ["crisis.immediate"], "safety_plan", events=DISCLOSED_EVENTS),
    Row(ASKED, "yes i am", ["crisis.immediate"], "safety_plan", events=DISCLOSED_EVENTS),
    Row(ASKED, "Ndiyo", ["crisis.immediate"], "safety_plan", Profile(locale="sw", consented=True),
        events=DISCLOSED_EVENTS),
    Row(ASKED_FIRST, "yes", ["crisis.immediate"], "safety_plan", NEW, events=DISCLOSED_EVENTS),
    # Unsure is not a no: "maybe", "sometimes", in the person's language, or leading a short reply.
    Row(ASKED, "sometimes", ["crisis.immediate"], "safety_plan", events=DISCLOSED_EVENTS),
    Row(ASKED, "idk maybe", ["crisis.immediate"], "safety_plan", events=DISCLOSED_EVENTS),
    Row(ASKED, "wakati mwingine", ["crisis.immediate"], "safety_plan", Profile(locale="sw", consented=True),
        events=DISCLOSED_EVENTS),
    Row(ASKED, "no... maybe sometimes", ["crisis.immediate"], "safety_plan", events=DISCLOSED_EVENTS),
    # NO: what the message would have had.
    Row(ASKED, "no", ["support.general"], "menu", events=(), extra={"safety_asked_from": None}),
    Row(ASKED, "no im ok, just tired", ["support.general"], "menu", events=()),
    Row(ASKED_FIRST, "NO", ["onboarding.welcome", "onboarding.consent"], "consent", NEW),
    # Anything else is a message of its own, and the question is not asked again.
    Row(ASKED, "2", ["module.sleep.1"], "module"),
    Row(ASKED, "no one would even notice if i was gone tomorrow", ["support.general"], "menu",
        risk=RISK_CONCERN, ask="suicide", now=NOW),
    Row(ASKED_FIRST, "hello there", ["onboarding.welcome", "onboarding.consent"], "consent", NEW),
    # Words the gate reads as a crisis by themselves take the crisis path whatever was asked.
    Row(ASKED, "yes i want to die", ["crisis.suicide"], "safety_plan", risk=RISK_HIGH, category="suicide",
        by="crisis", extra={"safety_asked_from": None}),
]


@table(SAFETY_ANSWER_ROWS)
def test_safety_answer(engine, row):
    check(engine, "safety_answer", row)


ONBOARDING_ROWS = [
    Row({}, "Hi", ["onboarding.welcome", "onboarding.consent"], "consent", NEW, extra={"consent_locale": "en"}),
    Row({}, "Habari", ["onboarding.welcome", "onboarding.consent"], "consent", NEW, extra={"consent_locale": "sw"}),
    Row({}, "qwzx", ["onboarding.languages"], "language", NEW, extra={"welcome_due": True}),
    Row({"flow": "language", "welcome_due": True}, "2", ["onboarding.welcome", "onboarding.consent"], "consent",
        NEW, events=("language_set",), extra={"consent_locale": "sw", "welcome_due": None}),
    Row({"flow": "language", "welcome_due": True}, "Français", ["onboarding.welcome", "onboarding.consent"],
        "consent", NEW, extra={"consent_locale": "fr"}),
    Row({"flow": "language", "welcome_due": True}, "qwzx", ["onboarding.languages"], "language", NEW),
    Row({"flow": "language"}, "Swahili", ["menu.main"], "menu", events=("language_set",)),
    Row({"flow": "consent", "consent_locale": "en"}, "YES", ["menu.main"], "menu", NEW, events=("consent_given",)),
    Row({"flow": "consent", "consent_locale": "en"}, "no", ["onboarding.consent_declined"], "consent", NEW,
        events=("consent_declined",)),
    Row({"flow": "consent", "consent_locale": "en"}, "what?", ["onboarding.consent"], "consent", NEW),
    # Nothing else before consent: a menu number or TALK asks for consent again.
    Row({"flow": "menu"}, "2", ["onboarding.consent"], "consent", Profile(locale="en")),
    Row({"flow": "consent", "consent_locale": "en"}, "TALK", ["onboarding.consent"], "consent", NEW,
        extra={"talk_due": True}),
    # A person asked for before consent is remembered, and consent goes straight to one.
    Row({}, "TALK", ["onboarding.welcome", "onboarding.consent"], "consent", NEW, extra={"talk_due": True}),
    Row({"flow": "consent", "consent_locale": "en", "talk_due": True}, "YES", ["handoff.requested"], "menu", NEW,
        events=("consent_given", "handoff_requested"), extra={"talk_due": None}),
    Row({"flow": "consent", "consent_locale": "en", "talk_due": True}, "what?", ["onboarding.consent"], "consent",
        NEW, extra={"talk_due": True}),
]


@table(ONBOARDING_ROWS)
def test_onboarding(engine, row):
    check(engine, "onboarding", row)


ONBOARDING_IN_WORDS_ROWS = [
    # (no detected language here: the language menu first)
    Row({}, "I need a real person", ["onboarding.languages"], "language", NEW, extra={"talk_due": True}),
    Row({}, "I can't sleep", ["onboarding.languages"], "language", NEW, extra={"talk_due": None}),
    Row({"flow": "language", "welcome_due": True, "talk_due": True}, "1", ["onboarding.welcome",
        "onboarding.consent"], "consent", NEW, extra={"talk_due": True}),
]


@table(ONBOARDING_IN_WORDS_ROWS)
def test_onboarding_remembers_a_person_asked_for_in_words(listening, row):
    check(listening, "onboarding", row)


TALK_ROWS = [
    Row({"flow": "menu"}, "TALK", ["handoff.requested"], "menu", events=("handoff_requested",)),
    Row(MODULE, "talk to a person", ["handoff.requested"], "module", extra={"step": 1}),
    Row({"flow": "menu"}, "Ongea", ["handoff.requested"], "menu", Profile(locale="sw", consented=True)),
    Row({"flow": "menu"}, "TALK", ["handoff.already"], "menu", case=CASE_OPEN, audit=("handoff.repeated",)),
]


@table(TALK_ROWS)
def test_talk(engine, row):
    check(engine, "talk", row)


SCHEDULE_ROWS = [
    Row({"flow": "menu"}, "PAUSE", ["keywords.pause_confirmation"], "menu", audit=("schedule.pause",)),
    Row(MODULE, "RESUME", ["keywords.resume_confirmation"], "module", audit=("schedule.resume",)),
    Row({"flow": "menu"}, "TIME 7", ["keywords.time_confirmation"], "menu", audit=("schedule.time",)),
    Row({"flow": "menu"}, "TIME 18:30 UTC+3", ["keywords.time_confirmation"], "menu"),
    Row({"flow": "menu"}, "TIME 25", ["keywords.time_help"], "menu", audit=()),
    Row({"flow": "menu"}, "TIME", ["keywords.time_help"], "menu"),
    # "time" as an ordinary word is not a request.
    Row({"flow": "menu"}, "time flies", ["fallback.not_understood"], "menu", by="free_text"),
    # Before consent there are no reminders to set.
    Row({"flow": "consent", "consent_locale": "en"}, "PAUSE", ["onboarding.consent"], "consent", NEW,
        by="onboarding"),
]


@table(SCHEDULE_ROWS)
def test_schedule(engine, row):
    check(engine, "schedule", row)


MENU_KEYWORD_ROWS = [
    Row(MODULE, "MENU", ["menu.main"], "menu", extra={"module": None, "step": None}),
    Row({"flow": "screening", "instrument": "gad7", "answers": [1]}, "menu", ["menu.main"], "menu",
        extra={"answers": None}),
    Row({"flow": "menu", "offer": "phq9"}, "MENU", ["menu.main"], "menu", extra={"offer": None}),
]


@table(MENU_KEYWORD_ROWS)
def test_menu_keyword(engine, row):
    check(engine, "menu_keyword", row)


SCREENING_OFFER_ROWS = [
    Row({"flow": "menu", "offer": "phq9"}, "YES", PHQ9, "screening", audit=("screening.follow_up",),
        extra={"offer": None}),
    # Anything else drops the offer and is read as usual.
    Row({"flow": "menu", "offer": "phq9"}, "2", ["module.sleep.1"], "module", by="menu", extra={"offer": None}),
    Row({"flow": "menu", "offer": "phq9"}, "no thanks", ["fallback.not_understood"], "menu", by="free_text",
        extra={"offer": None}),
    # A keyword answers first and leaves the offer for the next message.
    Row({"flow": "menu", "offer": "phq9"}, "HELP", ["keywords.help"], "menu", by="info", extra={"offer": "phq9"}),
]


@table(SCREENING_OFFER_ROWS)
def test_screening_offer(engine, row):
    check(engine, "screening_offer", row)


# -- 3. the table by where the person is --------------------------------------------------
def screening_state(instrument: str, answers: list[int]) -> dict[str, Any]:
    return {"flow": "screening", "instrument": instrument, "answers": answers}


SCREENING_ROWS = [
    Row(screening_state("gad7", []), "2", ["screening.gad7.q2"], "screening", extra={"answers": [2]}),
    Row(screening_state("gad7", [1]), "4", ["screening.invalid_answer", "screening.gad7.q2"], "screening",
        extra={"answers": [1]}),
    Row(screening_state("gad7", []), "\u0663", ["screening.gad7.q2"], "screening", extra={"answers": [3]}),
    Row(screening_state("gad7", [1] * 6), "1", ["screening.gad7.band.mild", "screening.gad7.help"], "menu",
        audit=("screening_completed",), extra={"answers": None, "instrument": None}),
    Row(screening_state("phq2", [3]), "3", ["screening.phq2.band.positive", "screening.phq2.help"], "menu",
        extra={"offer": "phq9"}),
    # Thoughts of death or self-harm: the suicide pathway first, then the score.
    Row(screening_state("phq9", [0] * 8), "1", ["crisis.suicide", "screening.phq9.band.minimal", "screening.phq9.help"],
        "safety_plan", audit=("screening.crisis_item", "screening_completed"),
        events=("crisis:high", "crisis.pathway:suicide", "screening_completed:phq9")),
]


@table(SCREENING_ROWS)
def test_screening(engine, row):
    check(engine, "screening", row)


MODULE_ROWS = [
    Row({"flow": "module", "module": "sleep", "step": 0}, "NEXT", ["module.sleep.2"], "module", extra={"step": 1}),
    Row(MODULE, "yes", ["module.sleep.3"], "module", extra={"step": 2}),
    Row(MODULE, "back", ["module.sleep.1"], "module", extra={"step": 0}),
    Row({"flow": "module", "module": "sleep", "step": 0}, "back", ["menu.main"], "menu"),
    Row({"flow": "module", "module": "sleep", "step": 3}, "next", ["feedback.rate"], "rating",
        audit=("module_completed:sleep",), extra={"rated": ["sleep"], "module": "sleep"}),
    Row({"flow": "module", "module": "sleep", "step": 3, "rated": ["sleep"]}, "next", ["menu.main"], "menu"),
    # Anything else is read as at the menu.
    Row(MODULE, "3", ["module.breathing.1"], "module", extra={"module": "breathing", "step": 0}),
    Row(MODULE, "hmm", ["fallback.not_understood"], "module"),
]


@table(MODULE_ROWS)
def test_module(engine, row):
    check(engine, "module", row)


def rating_state() -> dict[str, Any]:
    return {"flow": "rating", "module": "sleep", "rated": ["sleep"]}


RATING_ROWS = [
    Row(rating_state(), "4", ["feedback.thanks", "menu.main"], "menu", audit=("module_rated",)),
    Row(rating_state(), "\u0968", ["feedback.thanks", "menu.main"], "menu", audit=("module_rated",)),
    Row(rating_state(), "great", ["fallback.not_understood"], "menu", audit=("intent.not_understood",)),
    Row(rating_state(), "9", ["screening.phq2.intro", "screening.phq2.scale", "screening.phq2.q1"], "screening",
        audit=()),
    Row(rating_state(), "MENU", ["menu.main"], "menu", by="menu_keyword"),
]


@table(RATING_ROWS)
def test_rating(engine, row):
    check(engine, "rating", row)


MENU_ROWS = [
    Row({"flow": "menu"}, "2", ["module.sleep.1"], "module", audit=("module_started:sleep",)),
    Row({"flow": "menu"}, "\u0662", ["module.sleep.1"], "module"),
    Row({"flow": "menu"}, "10", PHQ9, "screening", events=("screening_started:phq9",)),
    Row({"flow": "menu"}, "12", ["course.enrolled"], "menu", audit=("schedule.enrol",)),
    Row({"flow": "menu"}, "13", ["course.weekly_checkin.enrolled"], "menu", audit=("schedule.enrol",)),
]


@table(MENU_ROWS)
def test_menu(engine, row):
    check(engine, "menu", row)


FREE_TEXT_ROWS = [
    Row({"flow": "menu"}, "I need a real person", ["handoff.requested"], "menu", audit=("intent.talk",)),
    Row({"flow": "menu"}, "I can't sleep", ["module.sleep.1"], "module", audit=("intent.matched", "module_started:sleep")),
    Row({"flow": "menu"}, "I feel so alone", ["support.lonely"], "menu", audit=("intent.supported",)),
    Row({"flow": "menu"}, "stressed and tired", ["intent.which"], "menu", audit=("intent.asked",)),
    Row({"flow": "menu"}, "my brother shouts at me", ["generated", "dialogue.options"], "menu",
        audit=("reply.generated",)),
    Row({"flow": "menu"}, "what pills should I take", ["fallback.generation_blocked"], "menu",
        audit=("generation.blocked",)),
    Row({"flow": "menu"}, "99", ["fallback.not_understood"], "menu", audit=("intent.not_understood",)),
]


@table(FREE_TEXT_ROWS)
def test_free_text(listening, row):
    check(listening, "free_text", row)


# -- the region, on a deployment with several ---------------------------------------------
REGION_KEYWORD_ROWS = [
    Row({"flow": "menu"}, "REGION", ["onboarding.choose_region"], "region"),
    Row(MODULE, "region", ["onboarding.choose_region"], "region"),
    # Before consent the question waits.
    Row({"flow": "consent", "consent_locale": "en"}, "REGION", ["onboarding.consent"], "consent", NEW,
        by="onboarding"),
]


@table(REGION_KEYWORD_ROWS)
def test_region_keyword(regional, row):
    check(regional, "region_keyword", row)


def test_the_region_keyword_is_not_a_keyword_where_there_is_one_region(engine):
    row = Row({"flow": "menu"}, "REGION", ["fallback.not_understood"], "menu", by="free_text")
    check(engine, "region_keyword", row)


REGION_ROWS = [
    Row({"flow": "region"}, "2", ["menu.main"], "menu"),
    Row({"flow": "region"}, "South Valley", ["menu.main"], "menu", audit=("region_set",)),
    Row({"flow": "region"}, "Mars", ["onboarding.choose_region"], "region", audit=()),
    Row({"flow": "region"}, "MENU", ["menu.main"], "menu", audit=()),
    Row({"flow": "consent", "consent_locale": "en"}, "YES", ["onboarding.choose_region"], "region", NEW,
        by="onboarding", events=("consent_given",)),
]


@table(REGION_ROWS)
def test_region(regional, row):
    check(regional, "region", row)


def test_routing_answers_nothing_and_records_nothing(engine):
    state = {"flow": "menu", "offer": "phq9", "with_staff": True}
    turn = Turn("hello", "sms", risk=RISK_CONCERN, risk_rules=("r1",))
    assert engine.route(state, turn, READY) == "free_text"
    assert state == {"flow": "menu", "offer": "phq9", "with_staff": True}
