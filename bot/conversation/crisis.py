"""The crisis path: deterministic, human-written, first, and shaped by the kind of risk.

On HIGH or IMMINENT risk the person gets their category's first reply at once (approved
content for their region and language, never machine-translated at send time), a case
opens for a health worker with the category and a severity, and automated content
pauses. Each category has its own pathway (library.yaml): a woman reporting violence is
given safety steps and gender-based-violence services, a child is told in simple words who
can help, a person worried about a friend learns how to help them and is asked how they
are; suicide and self-harm keep the safety plan. When harm is already done or under way
the emergency number comes first, whatever the category; YES (help is with them) then gets
what to tell the people helping, and the next YES goes on to the pathway's steps.

YES or NEXT walks the pathway's steps; anything else gets its follow-up (an honest
``{response_time}`` and who to contact now). The flow takes precedence over onboarding: a
first message in crisis followed by YES continues the plan, and consent is asked when the
plan ends or the person moves on (MENU). Nothing the person says closes the case: only a
health worker does.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.conversation import helplines, onboarding
from bot.conversation.flow import Context
from bot.conversation.types import (
    RISK_HIGH,
    RISK_IMMINENT,
    SAFETY_PLAN,
    SEVERITY,
    Content,
    Outcome,
    Profile,
    Turn,
)
from bot.conversation.voice import Voice
from content.errors import ContentMissing
from content.pathways import GENERAL, IN_PROGRESS, IN_PROGRESS_FOLLOWUP, IN_PROGRESS_HELP, SAFETY_PLAN_STEPS
from content.schema import Pathway

CRISIS = RISK_HIGH
PLAN_STEPS = len(SAFETY_PLAN_STEPS)
_LEVEL = {"high": RISK_HIGH, "imminent": RISK_IMMINENT}
_FLOW_KEYS = ("module", "step", "instrument", "answers", "plan_step", "pathway", "in_progress",
              "safety_asked_from")


class HasContent(Protocol):
    """Anything that holds the content: a Voice, or the engine the worker holds."""

    @property
    def content(self) -> Content: ...


def pathway(source: HasContent, category: str | None) -> Pathway:
    """The category's pathway from the content, else the general one."""
    finder = getattr(source.content, "pathway", None)
    found = finder(category) if finder is not None and category else None
    return found or GENERAL


def case_for(source: HasContent, risk: int, category: str | None, in_progress: bool) -> tuple[str, str | None]:
    """(severity, category) of the case a crisis opens: the gate's level raised to the pathway's
    severity, imminent when harm is under way. The worker commits the case with these before any
    reply is rendered; the turn's outcome then names the same."""
    return case_for_path(pathway(source, category), risk, category, in_progress)


def case_for_path(path: Pathway, risk: int, category: str | None, in_progress: bool) -> tuple[str, str | None]:
    level = RISK_IMMINENT if in_progress else max(risk, _LEVEL.get(path.severity, RISK_HIGH))
    return SEVERITY[min(level, RISK_IMMINENT)], path.category or category


def _record(out: Outcome, turn: Turn, path: Pathway, rules: tuple[str, ...]) -> str:
    """The case, as :func:`case_for` words it."""
    severity, out.case_category = case_for_path(path, turn.risk, turn.category, turn.in_progress)
    out.escalation = (severity, rules)
    out.pause = True
    out.events.append(f"crisis:{severity}")
    if out.case_category:
        out.events.append(f"crisis.pathway:{out.case_category}")
    return severity


def escalate_silently(voice: Voice, out: Outcome, turn: Turn) -> None:
    """An opted-out person in crisis: no message may be sent, but a person must look."""
    _record(out, turn, pathway(voice, turn.category), turn.risk_rules)


def services_text(voice: Voice, out: Outcome, path: Pathway, now: Any, locale: str, channel: str) -> str:
    """``{helplines}`` for this pathway: its services in the person's region, open now or when they open."""
    try:
        region = voice.content.region(out.region or voice.default_region)
    except ContentMissing:
        region = None
    return helplines.text(voice.content, region, path.services, now, locale, channel, voice.fallbacks(out))


def _say(voice: Voice, out: Outcome, item_id: str, path: Pathway, now: Any, locale: str, channel: str) -> None:
    values = {"helplines": services_text(voice, out, path, now, locale, channel)}
    voice.say(out, item_id, locale, channel, kind="crisis", values=values)


def _say_in_progress(voice: Voice, out: Outcome, item_id: str, path: Pathway, now: Any, locale: str,
                     channel: str) -> None:
    """Harm under way: the pathway's own wording when the library has one (someone else's
    overdose is about getting help to *them*: ``crisis.third_party.in_progress``, and its
    ``.followup`` and ``.help``), else the general one, which speaks to the person who is hurt."""
    if path.category:
        try:
            _say(voice, out, item_id.replace("crisis.", f"crisis.{path.category}.", 1), path, now, locale, channel)
            return
        except ContentMissing:
            pass
    _say(voice, out, item_id, path, now, locale, channel)


def open_crisis(
    voice: Voice, out: Outcome, turn: Turn, locale: str, channel: str, rules: tuple[str, ...] | None = None
) -> None:
    """The first reply of the turn's pathway (the emergency text when harm is under way) and the case."""
    path = pathway(voice, turn.category)
    _record(out, turn, path, rules if rules is not None else turn.risk_rules)
    for key in _FLOW_KEYS:
        out.state.pop(key, None)
    out.state.update(flow=SAFETY_PLAN, plan_step=0)
    if path.category:
        out.state["pathway"] = path.category
    if turn.in_progress:
        out.state["in_progress"] = True
        _say_in_progress(voice, out, IN_PROGRESS, path, turn.now, locale, channel)
        return
    _say(voice, out, path.reply, path, turn.now, locale, channel)


def follow(
    voice: Voice, out: Outcome, turn: Turn, profile: Profile, action: str | None, locale: str, channel: str
) -> Outcome:
    """A reply while the crisis flow is open: YES/NEXT walks the steps, MENU moves on, anything
    else is answered with the follow-up. While harm is under way, every reply but YES repeats
    the emergency number first. YES there says help is with them, so it is answered with what to
    tell the people helping (``crisis.in_progress.help``, or the pathway's own), not with the
    pathway's follow-up, which is written for someone who may still be alone; the step count is
    untouched, so the next YES starts the pathway's steps."""
    path = pathway(voice, out.state.get("pathway"))
    if out.state.get("in_progress"):
        if action in {"yes", "next"}:
            out.state.pop("in_progress", None)
            _say_in_progress(voice, out, IN_PROGRESS_HELP, path, turn.now, locale, channel)
        else:
            _say_in_progress(voice, out, IN_PROGRESS_FOLLOWUP, path, turn.now, locale, channel)
        return out
    if action == "menu":
        return leave(voice, out, profile, locale, channel)
    if action in {"yes", "next"} and path.steps:
        step = int(out.state.get("plan_step", 0)) + 1
        if step > len(path.steps):
            return leave(voice, out, profile, locale, channel)
        out.state["plan_step"] = step
        _say(voice, out, path.steps[step - 1], path, turn.now, locale, channel)
        if step == len(path.steps):
            out.events.append(
                "safety_plan_completed" if path.steps == SAFETY_PLAN_STEPS else f"pathway_completed:{path.category}"
            )
        return out
    _say(voice, out, path.followup, path, turn.now, locale, channel)
    return out


def leave(voice: Voice, out: Outcome, profile: Profile, locale: str, channel: str) -> Outcome:
    """The person moves on from the crisis flow: the menu, or, on first contact, onboarding
    (consent is asked now, after the plan, never instead of it)."""
    for key in _FLOW_KEYS:
        out.state.pop(key, None)
    if profile.consented:
        voice.main_menu(out, locale, channel)
    else:
        onboarding.onboard(voice, out, locale, channel)
    return out


class CrisisGate:
    """HIGH or IMMINENT risk: the pathway's first reply and the case, whatever the flow."""

    name = "crisis"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.turn.risk >= CRISIS

    def step(self, ctx: Context) -> Outcome:
        if not ctx.profile.locale and ctx.known:
            ctx.out.state["consent_locale"] = ctx.known  # first contact: the crisis flow goes on in this language
        open_crisis(self.voice, ctx.out, ctx.turn, ctx.locale, ctx.channel)
        return ctx.out


class SafetyPlan:
    """The open crisis flow: the pathway's steps, its follow-up, or moving on (see ``follow``)."""

    name = "safety_plan"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.flow == SAFETY_PLAN

    def step(self, ctx: Context) -> Outcome:
        return follow(self.voice, ctx.out, ctx.turn, ctx.profile, ctx.reply, ctx.locale, ctx.channel)


class PlanBeforeConsent:
    """First contact in crisis: the plan goes on ahead of onboarding (YES is not consent);
    consent is asked when the person leaves it."""

    name = SafetyPlan.name

    def __init__(self, plan: SafetyPlan):
        self.plan = plan

    def handles(self, ctx: Context) -> bool:
        return self.plan.handles(ctx) and not ctx.profile.consented

    def step(self, ctx: Context) -> Outcome:
        return self.plan.step(ctx)
