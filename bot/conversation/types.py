"""What goes into and comes out of one conversation turn."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

NEW, LANGUAGE, CONSENT, MENU, MODULE = "new", "language", "consent", "menu", "module"
DELETE_CONFIRM, SCREENING, SAFETY_PLAN = "delete", "screening", "safety_plan"
SAFETY_CHECK = "safety_check"  # the direct question about safety was asked; its answer is due
REGION = "region"
CASE_OPEN, WITH_STAFF = "open", "with_staff"  # Turn.case
RATING = "rating"  # the one-number rating asked once at the end of a module
OFFER = "offer"  # state key: the longer check a positive screening offered, until the next message

# Risk levels as the safety gate orders them (bot.safety.levels.Level).
RISK_NONE, RISK_CONCERN, RISK_HIGH, RISK_IMMINENT = 0, 1, 2, 3
SEVERITY = {RISK_CONCERN: "concern", RISK_HIGH: "high", RISK_IMMINENT: "imminent"}


@dataclass(frozen=True)
class Turn:
    """One inbound message, with the safety gate's verdict computed before the engine runs.

    The worker also says what language the text is in. ``detected_locale`` is a confident
    detection naming a locale the deployment serves; it only matters while the person has no
    stored language. ``text_lang`` is the language machine translation may read the text as:
    None when the worker did not tell (the person's locale is assumed), "und" when the text fits
    no language a model could read it as (romanised Hindi is not the Devanagari a hi->en model
    was trained on), so nothing machine-translates it.
    """

    text: str
    channel: str
    num_media: int = 0
    risk: int = RISK_NONE
    risk_rules: tuple[str, ...] = ()
    detected_locale: str | None = None
    text_lang: str | None = None
    # When a health worker can honestly be expected (bot.oncall.availability.Availability);
    # the engine words it as {response_time}. None: the worker did not say.
    availability: Any = None
    # A fresh random code the worker draws for each turn; a DELETE request quotes it, and only
    # a reply carrying it erases (a spoofed sender never saw it). The engine draws nothing.
    delete_code: str = ""
    # The gate's pathway (bot.safety.levels.Assessment.category) and whether harm is already
    # done or under way; they choose the crisis reply, its services and the case's category.
    category: str | None = None
    in_progress: bool = False
    # The moment of the turn (aware), passed in so a crisis reply names only services open
    # now; None: no clock, every service is listed with its hours.
    now: datetime | None = None
    # The pathway a message below HIGH leans towards when a crisis is possible but not clear
    # (bot.safety.levels.Assessment.ask): the person is asked directly (bot.conversation.ask).
    ask: str | None = None
    # The person's case as the worker found it: None (no open case), OPEN (waiting for staff),
    # or WITH_STAFF (the case owner is in the conversation: the bot stays quiet).
    case: str | None = None


@dataclass(frozen=True)
class Profile:
    locale: str | None = None
    opted_out: bool = False
    consented: bool = False
    region: str | None = None
    accepted_locales: tuple[str, ...] = ()  # every locale the person chose, most recent first


@dataclass(frozen=True)
class Reply:
    item_id: str
    text: str
    ref: str  # "item@version" for approved content, "generated:<model>@<version>" for the dialogue model
    locale: str
    kind: str = "reply"


@dataclass(frozen=True)
class Generated:
    """A dialogue-model reply that passed the output guard, or the rule that blocked it."""

    text: str | None
    ref: str
    blocked_rule: str | None = None


@dataclass
class Outcome:
    state: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    opt_out: bool = False
    opt_in: bool = False
    locale: str | None = None
    consent: tuple[str, str, str] | None = None  # (decision, wording ref, locale)
    erase: bool = False
    escalation: tuple[str, tuple[str, ...]] | None = None  # (severity, rule ids)
    case_category: str | None = None  # the escalation's risk category (a shared category id)
    pause: bool = False
    handoff: bool = False  # the person asked for a person: the worker opens a handoff case
    leave_staff: bool = False  # the person went back to the bot while staff were with them
    events: list[str] = field(default_factory=list)
    audit: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (action, detail without text)
    region: str = ""  # the region whose helplines this turn quotes
    region_chosen: str | None = None  # a region the person picked; the worker stores it
    accepted_locales: tuple[str, ...] = ()  # the person's, for this turn's fallbacks (see Engine.render)
    availability: Any = None  # the turn's, for {response_time} (see Engine.render)
    distress: bool = False  # the gate read distress without danger (CONCERN) in this message
    case: str | None = None  # the turn's (Turn.case)


class Content(Protocol):
    default_locale: str

    def locales(self) -> list[str]: ...
    def render(self, item_id: str, locale: str, channel: str, values: Mapping[str, object] | None = None,
               fallbacks: Sequence[str] = ()) -> Any: ...
    def keyword_actions(self, text: str, locales: Sequence[str]) -> list[str]: ...
    def message(self, item_id: str) -> Any: ...
    def helplines(self, region_id: str) -> list[Any]: ...
    def pathway(self, category: str | None) -> Any: ...
    def region(self, region_id: str) -> Any: ...
    def regions(self) -> list[Any]: ...
    def menu(self, locale: str, fallbacks: Sequence[str] = ()) -> list[Any]: ...
    def module(self, module_id: str) -> Any: ...
    def screening(self, instrument_id: str) -> Any: ...
    def course(self, course_id: str) -> Any: ...


@dataclass(frozen=True)
class Understanding:
    """What a free-text message seems to be about (bot.understanding), for the engine to act on.

    ``targets`` are menu targets ("module:sleep", "screening:phq2"), closest first; ``confident``
    says the first is clearly the one. ``theme`` names emotional content (lonely, failure, grief,
    money, family, general) that gets a supportive reply rather than a guess.
    """

    talk: bool = False
    targets: tuple[str, ...] = ()
    confident: bool = False
    theme: str | None = None
    nearest: tuple[str, ...] = ()  # the closest targets even when nothing matched (for generated replies)
    social: str | None = None  # "thanks" or "menu": conversation, not content (bot.understanding.SOCIAL)


class Understander(Protocol):
    def understand(self, text: str, locale: str) -> Understanding: ...


# Free text -> a module id (the older, module-only form of an Understander).
IntentMatcher = Callable[[str, str], "str | None"]
# (free text, the person's locale, the language the text is in: Turn.text_lang, the person's
# region, whose helplines and allowlist bound what the reply may cite) -> a guarded generated
# reply, or None when generation is off or cannot read the text.
Dialogue = Callable[[str, str, str, str], "Generated | None"]
