"""A module, step by step, and the one-number rating asked when it ends.

NEXT or YES moves on a step, BACK goes back (from the first step: the menu). A step may offer
choices that start another module, a check or a course. Anything else is read as at the menu.
At the end, the person is asked once per module to rate it from 1 to 5, but only when that
question is approved in their own language: a rating is never worth a message in a language
they did not choose. Only the number is recorded.
"""

from __future__ import annotations

from bot.conversation import topics
from bot.conversation.flow import Context
from bot.conversation.menu import Menu
from bot.conversation.text import fold, same_reply
from bot.conversation.types import MENU, MODULE, RATING, Outcome, Reply
from bot.conversation.voice import Voice
from content.errors import ContentMissing

RATING_ITEM, RATING_THANKS = "feedback.rate", "feedback.thanks"
RATING_SCALE = range(1, 6)
MODULE_RATED = "module_rated"  # audit action: {"module", "locale", "rating"}


class Module:
    """The person is in a module."""

    name = "module"

    def __init__(self, voice: Voice, menu: Menu):
        self.voice = voice
        self.menu = menu

    def handles(self, ctx: Context) -> bool:
        return ctx.flow == MODULE

    def step(self, ctx: Context) -> Outcome:
        out, locale, channel = ctx.out, ctx.locale, ctx.channel
        module = self.voice.content.module(out.state["module"])
        current = int(out.state.get("step", 0))
        if ctx.reply == "back":
            if current == 0:
                self.voice.main_menu(out, locale, channel)
                return out
            out.state["step"] = current - 1
            self.voice.say(out, module.steps[current - 1], locale, channel)
            return out
        choice = next((c for c in module.choices if c.reply is not None and c.target
                       and same_reply(c.reply, ctx.text)), None)
        if choice is not None and choice.action in {"module", "screening", "course"}:
            return topics.go(self.voice, out, f"{choice.action}:{choice.target}", locale, channel)
        if ctx.reply not in {"next", "yes"}:
            return self.menu.step(ctx)
        step = current + 1
        if step >= len(module.steps):
            out.audit.append((f"module_completed:{module.id}", {"locale": locale}))
            if not self._ask_rating(out, module.id, locale, channel):
                self.voice.main_menu(out, locale, channel)
            return out
        out.state["step"] = step
        self.voice.say(out, module.steps[step], locale, channel)
        return out

    def _ask_rating(self, out: Outcome, module_id: str, locale: str, channel: str) -> bool:
        """Ask for the rating of a finished module, once per person and module, in their own locale."""
        asked = list(out.state.get("rated", []))
        if module_id in asked:
            return False
        try:
            rendered = self.voice.content.render(RATING_ITEM, locale, channel)
        except ContentMissing:
            return False
        if rendered.locale != locale:
            return False
        out.replies.append(Reply(RATING_ITEM, rendered.text, rendered.ref, rendered.locale))
        out.state.pop("step", None)
        out.state.update(flow=RATING, module=module_id, rated=[*asked, module_id])
        return True


class Rating:
    """The answer to the rating question: a bare digit on the scale is recorded (the number
    only); anything else is an ordinary message."""

    name = "rating"

    def __init__(self, voice: Voice, menu: Menu):
        self.voice = voice
        self.menu = menu

    def handles(self, ctx: Context) -> bool:
        return ctx.flow == RATING

    def step(self, ctx: Context) -> Outcome:
        out, locale, channel = ctx.out, ctx.locale, ctx.channel
        module_id = out.state.pop("module", None)
        out.state["flow"] = MENU
        answer = fold(ctx.text)
        if module_id and len(answer) == 1 and answer.isdecimal() and int(answer) in RATING_SCALE:
            out.audit.append((MODULE_RATED, {"module": module_id, "locale": locale, "rating": int(answer)}))
            try:
                self.voice.say(out, RATING_THANKS, locale, channel)
            except ContentMissing:
                pass  # the menu alone still answers the person
            self.voice.main_menu(out, locale, channel)
            return out
        return self.menu.step(ctx)
