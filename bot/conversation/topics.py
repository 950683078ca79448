"""Starting what a menu number, a module's reply or a recognised request points to.

A target is "module:<id>", "screening:<id>" or "course:<id>", as the main menu lists them
(Voice.menu_entries). A module starts at its first step; a screening asks its first question
(bot.conversation.screening); a course is a request to the worker, which enrols the person
and schedules its steps (workers.scheduling), so the engine stays free of clocks.
"""

from __future__ import annotations

from bot.conversation import screening
from bot.conversation.types import MENU, MODULE, Outcome
from bot.conversation.voice import Voice
from content.errors import ContentMissing


def go(voice: Voice, out: Outcome, chosen: str, locale: str, channel: str) -> Outcome:
    """Start ``chosen``, a "kind:id" target."""
    kind, target = chosen.split(":", 1)
    if kind == "screening":
        return screening.start(voice, out, target, locale, channel)
    if kind == "course":
        return enrol(voice, out, target, locale, channel)
    out.state.update(flow=MODULE, module=target, step=0)
    out.audit.append((f"module_started:{target}", {"locale": locale}))
    voice.say(out, voice.content.module(target).steps[0], locale, channel)
    return out


def enrol(voice: Voice, out: Outcome, course_id: str, locale: str, channel: str) -> Outcome:
    """Ask the worker to enrol the person; confirm with the course's own wording if it has one."""
    out.audit.append(("schedule.enrol", {"course": course_id}))
    for key in ("module", "step"):
        out.state.pop(key, None)
    out.state["flow"] = MENU
    try:
        voice.say(out, f"course.{course_id}.enrolled", locale, channel)
    except ContentMissing:
        voice.say(out, "course.enrolled", locale, channel)
    return out
