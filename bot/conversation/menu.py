"""The main menu: a number starts what it lists; anything else is read as free text.

The menu lists the modules, then the screening checks, then the courses (Voice.menu_entries).
A number is read in any script's digits ("2", "२", "٢"), and means the same wherever the
person is, so a module's or a rating's reply that is not its own falls through to here.
"""

from __future__ import annotations

from bot.conversation import topics
from bot.conversation.flow import Context
from bot.conversation.freetext import FreeText
from bot.conversation.text import fold, number
from bot.conversation.types import Outcome
from bot.conversation.voice import Voice


class Menu:
    """A number on the main menu."""

    name = "menu"

    def __init__(self, voice: Voice, free_text: FreeText):
        self.voice = voice
        self.free_text = free_text

    def target(self, ctx: Context) -> str | None:
        picked = number(fold(ctx.text))
        return next((target for n, target, _ in self.voice.menu_entries(ctx.locale) if n == picked), None)

    def handles(self, ctx: Context) -> bool:
        return self.target(ctx) is not None

    def step(self, ctx: Context) -> Outcome:
        """The entry's module, check or course; a message that names none is free text, so other
        flows hand a reply that is not theirs to this step."""
        chosen = self.target(ctx)
        if chosen is None:
            return self.free_text.step(ctx)
        return topics.go(self.voice, ctx.out, chosen, ctx.locale, ctx.channel)


class MenuKeyword:
    """MENU, once the person has consented: back to the main menu from wherever they are."""

    name = "menu_keyword"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.reply == "menu"

    def step(self, ctx: Context) -> Outcome:
        self.voice.main_menu(ctx.out, ctx.locale, ctx.channel)
        return ctx.out
