"""A person asking for a person, and the conversation while a health worker is in it.

Asking (TALK, ONGEA, PARLER... or the words "talk to someone") opens a handoff case; the
worker writes it and alerts on-call like any other case, at its own severity and time. The
person is told honestly when someone will reply (``{response_time}``), and the bot keeps
helping until then.

While the case owner is in the conversation (the worker says so with ``Turn.case``), the
person's messages are for the case: the bot stays quiet, except for the safety gate and the
carrier keywords, and says once that a health worker is with them. A "yes" then answers the
health worker, never a bot question. MENU takes the person back to the bot.
"""

from __future__ import annotations

from bot.conversation.flow import Context
from bot.conversation.types import CASE_OPEN, DELETE_CONFIRM, WITH_STAFF, Outcome
from bot.conversation.voice import Voice

REQUESTED, ALREADY, STAFF_WITH_YOU = "handoff.requested", "handoff.already", "handoff.staff_with_you"
TO_CASE = "handoff.to_case"  # audit action: a message kept for the case (the worker tells the owner)
NOTICE_SENT = "with_staff"  # state key: the "a health worker is with you" notice went out
# What still works while staff are in the conversation: the carrier keywords and erasure.
STAFF_MODE_ACTIONS = frozenset({"stop", "start", "help", "delete"})


def request(voice: Voice, out: Outcome, locale: str, channel: str) -> Outcome:
    """Open a handoff case (or say the open one already reaches a person) and keep helping."""
    if out.case in (CASE_OPEN, WITH_STAFF):
        out.audit.append(("handoff.repeated", {}))
        voice.say(out, ALREADY, locale, channel)
        return out
    out.handoff = True
    out.events.append("handoff_requested")
    voice.say(out, REQUESTED, locale, channel)
    return out


def staff_left(ctx: Context) -> None:
    """Once no health worker is in the conversation, the next one's notice is due again.
    (A pending DELETE question keeps the flag until it is answered.)"""
    if ctx.flow != DELETE_CONFIRM and ctx.out.case != WITH_STAFF:
        ctx.out.state.pop(NOTICE_SENT, None)


class WithStaff:
    """While the case owner is in the conversation, the person's messages are for the case."""

    name = "with_staff"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return (ctx.flow != DELETE_CONFIRM and ctx.out.case == WITH_STAFF
                and ctx.first_action not in STAFF_MODE_ACTIONS)

    def step(self, ctx: Context) -> Outcome:
        """MENU takes the person back to the bot; anything else is kept for the case, and the
        person is told once that a health worker is with them."""
        out = ctx.out
        if ctx.first_action == "menu":
            out.leave_staff = True
            out.state.pop(NOTICE_SENT, None)
            out.events.append("handoff_left")
            self.voice.main_menu(out, ctx.locale, ctx.channel)
            return out
        out.audit.append((TO_CASE, {}))
        if not out.state.get(NOTICE_SENT):
            out.state[NOTICE_SENT] = True
            self.voice.say(out, STAFF_WITH_YOU, ctx.locale, ctx.channel)
        return out


class Talk:
    """TALK (in any enabled language): a person, not the bot."""

    name = "talk"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.keyword == "talk"

    def step(self, ctx: Context) -> Outcome:
        return request(self.voice, ctx.out, ctx.locale, ctx.channel)
