"""Asking directly: a message that may be a crisis, but not clearly, gets a direct question.

The lexicons decide most messages, but people in danger also write in words no lexicon
holds. When the learnt reading finds a crisis possible but below HIGH (the gate's
``Assessment.ask``), guessing either way fails someone: a crisis reply to "I can't sleep and
my husband and I fight" frightens, and a list of topics to someone who is being hurt
abandons them. So the person is asked, in approved words, whether they are thinking of
ending their life or someone is hurting them (asking directly does not put the idea there;
mhGAP asks it of everyone with hopelessness). The question is asked at most once a day.

- YES (or a short reply starting with it: "yes i am", "ndiyo"), and an unsure answer
  ("maybe", "sometimes", "sijui", "a veces"), which clinically is not a no, open the general crisis
  pathway (crisis lines, the emergency number, the safety plan) and a case, as if the gate
  had read HIGH; the portal shows the case as "said yes when asked if in danger".
- NO gets what the message would have had: the supportive reply with topics and TALK, or
  onboarding for a person who has not consented yet.
- Anything else is answered as the message it is (the gate reads it first: "yes i want to
  die" is a crisis by itself), and the question is not repeated.

On first contact the question comes before the welcome, like the crisis reply, and in the
language the message was written in; the welcome follows. When that language is not one the
deployment serves, the person gets the language menu instead (and is asked on a later message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.conversation import crisis, onboarding
from bot.conversation.flow import Context, Flow
from bot.conversation.freetext import support
from bot.conversation.types import MENU, NEW, RISK_HIGH, SAFETY_CHECK, SAFETY_PLAN, SCREENING, Outcome
from bot.conversation.voice import Voice

QUESTION = "safety.ask"
# The case's category after YES: the general crisis pathway (crisis lines, the emergency number,
# the safety plan), and health workers read that the person said they were in danger.
DISCLOSED = "disclosed"
ASKED_AT = "safety_asked_at"  # state: when the question was last asked (the turn's clock)
ASKED_FROM = "safety_asked_from"  # state: the flow the person was in, resumed on any other answer
ASK_AGAIN_AFTER = timedelta(hours=24)
MAX_ANSWER_WORDS = 5  # "yes i am", "sometimes yes": a longer reply is read as a message of its own
_NOT_FROM = (SAFETY_PLAN, SAFETY_CHECK, SCREENING)  # a crisis is already open, or answers are numbers


def asked_recently(state: dict[str, object], now: datetime | None) -> bool:
    """Whether the question went out within the last day (with no clock: ever)."""
    asked = state.get(ASKED_AT)
    if not isinstance(asked, str):
        return False
    if now is None:
        return True
    try:
        return now - datetime.fromisoformat(asked) < ASK_AGAIN_AFTER
    except (TypeError, ValueError):
        return False


def answer_of(ctx: Context, first_word_actions: Callable[[str], list[str]]) -> str | None:
    """"yes", "no", "unsure" or None: the whole reply as a keyword, else the first word of a
    short reply ("yes i am", "sometimes yes"; a no only when nothing after it hedges)."""
    if ctx.reply in ("yes", "no", "unsure"):
        return ctx.reply
    words = ctx.text.split()
    if not words or len(words) > MAX_ANSWER_WORDS:
        return None
    found = first_word_actions(words[0].strip(",.!;:"))
    if "yes" in found or "unsure" in found:
        return "yes" if "yes" in found else "unsure"
    if "no" in found:
        hedged = any({"yes", "unsure"} & set(first_word_actions(w.strip(",.!;:"))) for w in words[1:])
        return "unsure" if hedged else "no"  # "no im ok", but "no... maybe sometimes" is unsure
    return None


class AskSafety:
    """A possible crisis (the gate's ``ask``) outside a crisis, a check or a keyword: the question."""

    name = "safety_ask"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        # Only in a language the person is known to read: a first message in a language nobody
        # here serves gets the language menu, never this question in English.
        return (ctx.turn.ask is not None and ctx.known is not None and not ctx.actions
                and ctx.flow not in _NOT_FROM and not asked_recently(ctx.out.state, ctx.turn.now))

    def step(self, ctx: Context) -> Outcome:
        out = ctx.out
        if not ctx.profile.locale and ctx.known:
            out.state["consent_locale"] = ctx.known  # first contact: the welcome follows in this language
        out.state[ASKED_FROM] = ctx.flow
        out.state["flow"] = SAFETY_CHECK
        if ctx.turn.now is not None:
            out.state[ASKED_AT] = ctx.turn.now.isoformat()
        else:
            out.state[ASKED_AT] = ""
        out.audit.append(("safety.asked", {"leaning": ctx.turn.ask}))
        self.voice.say(out, QUESTION, ctx.locale, ctx.channel, kind="crisis")
        return out


class SafetyAnswer:
    """The reply to the question (see the module's docstring). ``route`` is the engine's own
    choice of flow, for a reply that is a message of its own."""

    name = "safety_answer"

    def __init__(self, voice: Voice, route: Callable[[Context], Flow]):
        self.voice = voice
        self.route = route

    def handles(self, ctx: Context) -> bool:
        return ctx.flow == SAFETY_CHECK

    def step(self, ctx: Context) -> Outcome:
        out = ctx.out
        came_from = str(out.state.pop(ASKED_FROM, MENU) or MENU)
        answer = answer_of(ctx, lambda word: self.voice.content.keyword_actions(word, ctx.locales))
        if answer in ("yes", "unsure"):
            # "Maybe" or "sometimes" to this question is not a no: a person should look.
            out.audit.append(("safety.answered", {"answer": answer}))
            turn = replace(ctx.turn, risk=RISK_HIGH, category=DISCLOSED, in_progress=False)
            crisis.open_crisis(self.voice, out, turn, ctx.locale, ctx.channel, rules=(f"ask:{answer}",))
            return out
        if answer == "no":
            out.audit.append(("safety.answered", {"answer": "no"}))
            if not ctx.profile.consented:
                out.state["flow"] = NEW
                onboarding.onboard(self.voice, out, out.state.get("consent_locale") or ctx.known, ctx.channel)
                return out
            out.state["flow"] = MENU
            return support(self.voice, out, ctx.locale, ctx.channel)
        out.state["flow"] = came_from
        return self.route(ctx).step(ctx)
