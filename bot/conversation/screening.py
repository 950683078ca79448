"""PHQ and GAD screening over SMS: one item per message, scored deterministically.

No model scores anything. An answer that an instrument flags (PHQ-9 item 9
above 0) goes straight to the crisis path; when it was the last item, the score
and its meaning follow the crisis reply. A band with a follow-up (a positive
PHQ-2) offers the longer instrument, started by YES on the next message.

Completions are recorded as ``screening_completed`` with the instrument and band
only: the worker stores that event unlinked from the person (reports count it), and
seals the answers and the pending offer in the person's state (workers.inbound).
"""

from __future__ import annotations

from typing import Any

from bot.conversation import crisis
from bot.conversation.flow import Context
from bot.conversation.text import fold, number
from bot.conversation.types import MENU, OFFER, RISK_HIGH, SCREENING, Outcome, Turn
from bot.conversation.voice import Voice

COMPLETED = "screening_completed"


def start(voice: Voice, out: Outcome, instrument_id: str, locale: str, channel: str) -> Outcome:
    instrument = voice.content.screening(instrument_id)
    out.state.update(flow=SCREENING, instrument=instrument_id, answers=[])
    out.events.append(f"screening_started:{instrument_id}")
    voice.say(out, instrument.intro_id, locale, channel)
    voice.say(out, instrument.scale_help_id, locale, channel)
    voice.say(out, instrument.questions[0].message_id, locale, channel)
    return out


def answer(voice: Voice, out: Outcome, text: str, locale: str, channel: str, now: Any = None) -> Outcome:
    instrument = voice.content.screening(out.state["instrument"])
    answers = [int(a) for a in out.state.get("answers", [])]
    allowed = {option.value for option in instrument.scale}
    folded = fold(text)
    value = number(folded)
    if value is None or value not in allowed:
        voice.say(out, "screening.invalid_answer", locale, channel)
        voice.say(out, instrument.questions[len(answers)].message_id, locale, channel)
        return out
    question = instrument.questions[len(answers)]
    answers.append(value)
    if question.crisis_if_above is not None and value > question.crisis_if_above:
        item = f"screening:{instrument.id}:q{len(answers)}"
        out.audit.append(("screening.crisis_item", {"instrument": instrument.id, "item": len(answers)}))
        # The item asks about thoughts of death or self-harm: the suicide pathway.
        crisis.open_crisis(voice, out, Turn(text="", channel=channel, risk=RISK_HIGH, category="suicide", now=now),
                           locale, channel, rules=(item,))
        if len(answers) == len(instrument.questions):
            _score(voice, out, instrument, answers, locale, channel, offer=False)
        return out
    if len(answers) < len(instrument.questions):
        out.state["answers"] = answers
        voice.say(out, instrument.questions[len(answers)].message_id, locale, channel)
        return out
    _score(voice, out, instrument, answers, locale, channel, offer=True)
    for key in ("instrument", "answers"):
        out.state.pop(key, None)
    out.state["flow"] = MENU
    return out


def _score(voice: Voice, out: Outcome, instrument: Any, answers: list[int], locale: str, channel: str,
           offer: bool) -> None:
    """Say the score and its meaning, and record the completion (instrument and band, no score)."""
    score = instrument.score(answers)
    band = instrument.band(score)
    out.audit.append((COMPLETED, {"instrument": instrument.id, "band": band.severity}))
    out.events.append(f"{COMPLETED}:{instrument.id}")
    voice.say(out, band.message_id, locale, channel, values={"score": str(score)})
    voice.say(out, instrument.help_id, locale, channel)
    if offer and band.follow_up:
        out.state[OFFER] = band.follow_up


def offered(out: Outcome) -> str | None:
    """The longer check a positive result offered, if the person has not answered yet."""
    found = out.state.get(OFFER)
    return found if isinstance(found, str) else None


def drop_offer(out: Outcome) -> None:
    """An offer lasts one message: one not taken up by YES is read as usual and the offer goes."""
    if offered(out) is not None:
        out.state.pop(OFFER, None)


class Offer:
    """YES to the longer check a positive result offered on the message before."""

    name = "screening_offer"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return bool(offered(ctx.out)) and ctx.reply == "yes"

    def step(self, ctx: Context) -> Outcome:
        target = str(ctx.out.state.pop(OFFER))
        ctx.out.audit.append(("screening.follow_up", {"instrument": target}))
        return start(self.voice, ctx.out, target, ctx.locale, ctx.channel)


class Screening:
    """The person is answering a check, one item per message."""

    name = "screening"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.flow == SCREENING

    def step(self, ctx: Context) -> Outcome:
        return answer(self.voice, ctx.out, ctx.text, ctx.locale, ctx.channel, ctx.turn.now)
