"""DELETE: erasing everything about a person, on a code only the real person has seen.

DELETE asks for confirmation with a fresh code the worker draws for the turn ("Reply DELETE
482193 to erase"). Only a reply quoting that code erases; a bare YES asks again with the same
code; anything else, a wrong code included, cancels, so a spoofed sender gets one guess per
request, each of which the real person is told about. The worker carries out the erasure
(workers.erasure); the engine only says it was asked for.
"""

from __future__ import annotations

from bot.conversation.flow import Context
from bot.conversation.text import carries_code
from bot.conversation.types import DELETE_CONFIRM, MENU, NEW, Outcome
from bot.conversation.voice import Voice

ASK = "keywords.delete_code"  # "Reply DELETE {code} to erase": the code ties the answer to the request
DONE, CANCELLED = "keywords.delete_done", "keywords.delete_cancelled"


class Erasure:
    """DELETE from anywhere, and the answer to its question."""

    name = "erasure"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.keyword == "delete" or ctx.flow == DELETE_CONFIRM

    def step(self, ctx: Context) -> Outcome:
        if ctx.keyword == "delete":
            return self.ask(ctx)
        return self.confirm(ctx)

    def ask(self, ctx: Context) -> Outcome:
        """Each DELETE asks again, with a new code; the flow to go back to stays the first one."""
        out = ctx.out
        resume = out.state.get("resume", MENU) if ctx.flow == DELETE_CONFIRM else out.state.get("flow", NEW)
        out.state.update(flow=DELETE_CONFIRM, resume=resume, delete_code=ctx.turn.delete_code)
        self.voice.say(out, ASK, ctx.locale, ctx.channel, values={"code": ctx.turn.delete_code})
        return out

    def confirm(self, ctx: Context) -> Outcome:
        """Erase only on the code quoted in the request; see the module's docstring."""
        out = ctx.out
        code = str(out.state.get("delete_code") or "")
        if code and carries_code(ctx.text, code):
            out.erase = True
            out.opt_out = True  # nothing more is sent while the erasure runs
            out.events.append("erasure_requested")
            self.voice.say(out, DONE, ctx.locale, ctx.channel, kind="optout_confirmation")
            out.state = {}
        elif ctx.reply == "yes" and code:
            out.events.append("erasure_code_missing")
            self.voice.say(out, ASK, ctx.locale, ctx.channel, values={"code": code})
        else:
            out.state["flow"] = out.state.pop("resume", MENU)
            out.state.pop("delete_code", None)
            self.voice.say(out, CANCELLED, ctx.locale, ctx.channel)
        return out
