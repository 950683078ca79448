"""The conversation engine: (state, message, content, services) -> (new state, replies).

Pure: no I/O, no clock, no randomness. The safety gate's verdict arrives with
the turn, and the free-text helpers (intent matching, the guarded dialogue
model) are handed in, so every flow is tested table by table and a health
worker can replay why a reply was sent. Everything said is approved content,
referenced by ``item@version`` in the person's locale, or a generated reply
labelled as such.

A turn is precedence plus a table. Each part of the conversation is a flow
(bot.conversation.flow: ``handles(ctx)`` and ``step(ctx)``), and the first
flow in this order that handles the turn answers it (``Engine.route`` names it):

1. The gates, first whatever the flow or the words, because safety outranks
   everything else:
   a. ``opted_out``: a person who sent STOP gets silence until START (a crisis
      still opens a case, silently);
   b. ``stop``: STOP opts out at once, from anywhere;
   c. ``crisis``: HIGH or IMMINENT risk gets the crisis reply and a case,
      whatever the flow.
   STOP comes before the crisis reply because it must always be honoured; the
   worker has already committed the case for any risk the gate found, so a
   STOP never hides a crisis from the health workers. Every turn past the gates
   records a CONCERN level (and free text then answers it with support, never
   "didn't understand"), and makes the "a health worker is with you" notice due
   again once staff have left.
2. What outranks where the person is:
   ``with_staff`` (while a health worker is in the conversation, everything but
   the carrier keywords is for them); ``info`` (HELP, BOT, DATA);
   ``language_keyword``; ``region_keyword``; ``erasure`` (DELETE and its
   question); ``media_only``; ``safety_plan`` for a first contact in crisis (the
   plan goes on before consent); ``safety_answer`` and ``safety_ask`` (a possible
   crisis is asked about directly, before anything else, and YES opens the crisis
   path: bot.conversation.ask); ``onboarding`` (nothing else before consent, but a
   person asked for, by TALK or in words, is remembered and reached once they consent);
   ``talk``; ``region`` (the region question); ``schedule`` (PAUSE, RESUME,
   TIME); ``menu_keyword``; ``screening_offer`` (YES to the longer check).
3. The table by where the person is (the state's ``flow``): ``safety_plan``,
   ``screening``, ``module``, ``rating``; anywhere else a number on the main menu
   (``menu``), else ``free_text``. A screening offer not taken up is dropped here:
   it lasts one message.

Onboarding, the region question, erasure and the keywords are described in their
own modules (bot.conversation.onboarding, .region, .erasure, .keywords).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from bot.conversation import crisis, handoff, screening
from bot.conversation.ask import AskSafety, SafetyAnswer
from bot.conversation.crisis import CrisisGate, PlanBeforeConsent, SafetyPlan
from bot.conversation.erasure import Erasure
from bot.conversation.flow import Context, Flow
from bot.conversation.freetext import FreeText, MediaOnly, understand
from bot.conversation.handoff import Talk, WithStaff
from bot.conversation.keywords import Info, OptedOut, Schedule, Stop
from bot.conversation.menu import Menu, MenuKeyword
from bot.conversation.modules import Module, Rating
from bot.conversation.onboarding import LanguageKeyword, Onboarding
from bot.conversation.region import RegionChoice, RegionKeyword
from bot.conversation.screening import Offer, Screening
from bot.conversation.types import (
    MODULE,
    RATING,
    RISK_CONCERN,
    SAFETY_PLAN,
    SCREENING,
    Content,
    Dialogue,
    IntentMatcher,
    Outcome,
    Profile,
    Turn,
    Understander,
)
from bot.conversation.voice import Voice
from core.timezones import QuietHours
from translation.greetings import greeting_language


class Engine:
    """Runs one turn. Holds only content, settings and stateless flows, never per-person data."""

    def __init__(self, content: Content, default_region: str = "demo", intents: Understander | IntentMatcher | None = None,
                 dialogue: Dialogue | None = None, consent_item: str = "onboarding.consent",
                 quiet_hours: QuietHours | None = None, served: Collection[str] | None = None,
                 data_days: int = 90):
        voice = self.voice = Voice(content, default_region=default_region, consent_item=consent_item, served=served)
        self.free_text = FreeText(voice, intents, dialogue)
        self.menu = Menu(voice, self.free_text)
        plan = SafetyPlan(voice)
        self.gates: tuple[Flow, ...] = (OptedOut(voice), Stop(voice), CrisisGate(voice))
        self.precedence: tuple[Flow, ...] = (
            WithStaff(voice), Info(voice, data_days), LanguageKeyword(voice), RegionKeyword(voice), Erasure(voice),
            MediaOnly(voice), PlanBeforeConsent(plan), SafetyAnswer(voice, self.choose), AskSafety(voice),
            Onboarding(voice, self._wants_person), Talk(voice), RegionChoice(voice),
            Schedule(voice, quiet_hours or QuietHours()), MenuKeyword(voice), Offer(voice),
        )
        self.table: dict[str, Flow] = {
            SAFETY_PLAN: plan, SCREENING: Screening(voice), MODULE: Module(voice, self.menu),
            RATING: Rating(voice, self.menu),
        }

    def _wants_person(self, ctx: Context) -> bool:
        """TALK, or words asking for a person ("I need to talk to someone"), in any served language."""
        if ctx.keyword == "talk":
            return True
        if not ctx.text.strip() or ctx.actions:
            return False
        intents = self.free_text.intents
        cues = getattr(intents, "wants_person", None)
        return bool(cues(ctx.text)) if cues is not None else understand(intents, ctx.text, ctx.locale).talk

    # -- what the worker reads ---------------------------------------------------
    @property
    def content(self) -> Content:
        return self.voice.content

    @property
    def served(self) -> frozenset[str] | None:
        return self.voice.served

    def enabled_locales(self) -> list[str]:
        return self.voice.enabled_locales()

    def regions(self) -> list[Any]:
        return self.voice.regions()

    def region_id(self, stored: str | None) -> str:
        return self.voice.region_id(stored)

    def menu_entries(self, locale: str, fallbacks: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
        return self.voice.menu_entries(locale, fallbacks)

    def first_contact_locale(self, turn: Turn, state: Mapping[str, Any]) -> str | None:
        """The language to answer a person who has not chosen one yet, or None (then: the menu).

        In order: a confident detection of this message (or a greeting that names its language:
        "Habari", "Hola"); the language their welcome went out
        in; for a crisis, the language of the crisis words that were found; for a keyword
        ("MSAADA", "AYUDA"), the one served language it belongs to.
        """
        enabled = self.voice.enabled_locales()
        found = self.voice.detected_locale(turn) or greeting_language(turn.text, enabled) or state.get("consent_locale")
        if found in enabled:
            return found
        if turn.risk >= crisis.CRISIS:
            for rule in turn.risk_rules:
                lang = rule.split(".", 1)[0]
                if lang in enabled:
                    return lang
        keyword_locales = getattr(self.content, "keyword_locales", None)
        if keyword_locales is not None and turn.text.strip():
            owners = keyword_locales(turn.text, enabled)
            if len(owners) == 1:
                return str(owners[0])
        return None

    def throttled(self, state: Mapping[str, Any], turn: Turn, profile: Profile, answer: bool) -> Outcome | None:
        """The turn of a sender past their per-minute limit with no risk found: no work beyond a
        one-time "slow down" (``answer``), or None when the text is a keyword (STOP, DELETE, TALK,
        HELP...), which always gets a full turn."""
        locale = profile.locale or self.content.default_locale
        locales = [locale] + [c for c in self.content.locales() if c != locale]
        if turn.text.strip() and self.content.keyword_actions(turn.text, locales):
            return None
        out = Outcome(state=dict(state), region=self.region_id(profile.region),
                      accepted_locales=profile.accepted_locales, availability=turn.availability)
        out.audit.append(("inbound.throttled", {}))
        if answer and not profile.opted_out:
            self.voice.say(out, "fallback.slow_down", locale, turn.channel)
        return out

    # -- the turn ----------------------------------------------------------------
    def context(self, state: Mapping[str, Any], turn: Turn, profile: Profile) -> Context:
        """The turn as the flows see it, with a fresh outcome over a copy of the state."""
        out = Outcome(state=dict(state), region=self.region_id(profile.region),
                      accepted_locales=profile.accepted_locales, availability=turn.availability, case=turn.case)
        known = profile.locale or self.first_contact_locale(turn, state)
        locale = known or self.content.default_locale
        locales = [locale] + [c for c in self.content.locales() if c != locale]
        actions = self.content.keyword_actions(turn.text, locales) if turn.text.strip() else []
        return Context(turn=turn, profile=profile, out=out, known=known, locale=locale, locales=locales,
                       actions=actions)

    def choose(self, ctx: Context) -> Flow:
        """The flow that answers this turn, by the order of precedence in the module's docstring."""
        for flow in (*self.gates, *self.precedence):
            if flow.handles(ctx):
                return flow
        by_state = self.table.get(ctx.flow)
        if by_state is not None:
            return by_state
        return self.menu if self.menu.handles(ctx) else self.free_text

    def route(self, state: Mapping[str, Any], turn: Turn, profile: Profile) -> str:
        """The name of the flow that would answer this turn; nothing is answered or recorded."""
        return self.choose(self.context(state, turn, profile)).name

    def step(self, state: Mapping[str, Any], turn: Turn, profile: Profile) -> Outcome:
        ctx = self.context(state, turn, profile)
        flow = self.choose(ctx)
        if flow not in self.gates:
            if turn.risk == RISK_CONCERN:
                ctx.out.distress = True
                ctx.out.audit.append(("safety.concern", {"rules": list(turn.risk_rules)}))
            handoff.staff_left(ctx)
        if flow not in self.precedence and flow not in self.gates:
            screening.drop_offer(ctx.out)
        return flow.step(ctx)
