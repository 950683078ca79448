"""The crisis path: deterministic, human-written, and first.

On HIGH or IMMINENT risk the person gets the crisis message for their region
and language at once (approved content, never machine-translated at send
time), a case opens for a health worker, automated content pauses, and a short
safety-plan flow is offered. Nothing the person says closes the case: only a
health worker does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation.types import MENU, RISK_HIGH, RISK_IMMINENT, SAFETY_PLAN, SEVERITY, Outcome, Turn

if TYPE_CHECKING:
    from bot.conversation.engine import Engine

CRISIS = RISK_HIGH
PLAN_STEPS = 5


def _record(out: Outcome, risk: int, rules: tuple[str, ...]) -> str:
    severity = SEVERITY[min(risk, RISK_IMMINENT)]
    out.escalation = (severity, rules)
    out.pause = True
    out.events.append(f"crisis:{severity}")
    return severity


def escalate_silently(out: Outcome, turn: Turn) -> None:
    """An opted-out person in crisis: no message may be sent, but a person must look."""
    _record(out, turn.risk, turn.risk_rules)


def open_crisis(engine: "Engine", out: Outcome, turn: Turn, locale: str, channel: str,
                rules: tuple[str, ...] | None = None) -> None:
    _record(out, turn.risk, rules if rules is not None else turn.risk_rules)
    engine.say(out, "crisis.immediate", locale, channel, kind="crisis")
    for key in ("module", "step", "instrument", "answers"):
        out.state.pop(key, None)
    out.state.update(flow=SAFETY_PLAN, plan_step=0)


def safety_plan_step(engine: "Engine", out: Outcome, action: str | None, locale: str, channel: str) -> Outcome:
    """YES/NEXT walks the plan; anything else is answered with the follow-up promise."""
    step = int(out.state.get("plan_step", 0))
    if action in {"yes", "next"}:
        step += 1
        if step > PLAN_STEPS:
            out.state = {k: v for k, v in out.state.items() if k != "plan_step"}
            out.state["flow"] = MENU
            engine.main_menu(out, locale, channel)
            return out
        out.state["plan_step"] = step
        engine.say(out, f"crisis.safety_plan.{step}", locale, channel, kind="crisis")
        if step == PLAN_STEPS:
            out.events.append("safety_plan_completed")
        return out
    engine.say(out, "crisis.followup", locale, channel, kind="crisis")
    return out
