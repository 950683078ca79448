"""PHQ and GAD screening over SMS: one item per message, scored deterministically.

No model scores anything. An answer that an instrument flags (PHQ-9 item 9
above 0) goes straight to the crisis path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.conversation import crisis
from bot.conversation.types import MENU, RISK_HIGH, SCREENING, Outcome, Turn

if TYPE_CHECKING:
    from bot.conversation.engine import Engine


def start(engine: "Engine", out: Outcome, instrument_id: str, locale: str, channel: str) -> Outcome:
    instrument = engine.content.screening(instrument_id)
    out.state.update(flow=SCREENING, instrument=instrument_id, answers=[])
    out.events.append(f"screening_started:{instrument_id}")
    engine.say(out, instrument.intro_id, locale, channel)
    engine.say(out, instrument.scale_help_id, locale, channel)
    engine.say(out, instrument.questions[0].message_id, locale, channel)
    return out


def answer(engine: "Engine", out: Outcome, text: str, locale: str, channel: str, now: Any = None) -> Outcome:
    from bot.conversation.engine import fold, number

    instrument = engine.content.screening(out.state["instrument"])
    answers = [int(a) for a in out.state.get("answers", [])]
    allowed = {option.value for option in instrument.scale}
    folded = fold(text)
    value = number(folded)
    if value is None or value not in allowed:
        engine.say(out, "screening.invalid_answer", locale, channel)
        engine.say(out, instrument.questions[len(answers)].message_id, locale, channel)
        return out
    question = instrument.questions[len(answers)]
    answers.append(value)
    if question.crisis_if_above is not None and value > question.crisis_if_above:
        item = f"screening:{instrument.id}:q{len(answers)}"
        out.audit.append(("screening.crisis_item", {"instrument": instrument.id, "item": len(answers)}))
        # The item asks about thoughts of death or self-harm: the suicide pathway.
        crisis.open_crisis(engine, out, Turn(text="", channel=channel, risk=RISK_HIGH, category="suicide", now=now),
                           locale, channel, rules=(item,))
        return out
    if len(answers) < len(instrument.questions):
        out.state["answers"] = answers
        engine.say(out, instrument.questions[len(answers)].message_id, locale, channel)
        return out
    score = instrument.score(answers)
    band = instrument.band(score)
    out.audit.append(("screening_completed", {"instrument": instrument.id, "band": band.severity, "score": score}))
    out.events.append(f"screening_completed:{instrument.id}")
    engine.say(out, band.message_id, locale, channel, values={"score": str(score)})
    engine.say(out, instrument.help_id, locale, channel)
    for key in ("instrument", "answers"):
        out.state.pop(key, None)
    out.state["flow"] = MENU
    return out
