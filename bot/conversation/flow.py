"""One turn as a flow sees it, and the one interface every flow has.

The engine builds a ``Context`` once per turn (the person's language, the keywords the text
matches, the outcome being written) and asks each flow in its order of precedence whether it
``handles`` the turn; the first that does takes the ``step``. ``handles`` only reads, so which
flow answered a message can be asked without answering it (Engine.route). ``step`` is only
called when ``handles`` said yes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.conversation.types import NEW, Outcome, Profile, Turn

# Keywords that mean the same from anywhere in a conversation, most important first.
GLOBAL_ACTIONS = ("stop", "help", "talk", "bot", "data", "language", "region", "delete")


@dataclass
class Context:
    """The turn, the person, and the outcome being written; the rest is read off these once."""

    turn: Turn
    profile: Profile
    out: Outcome
    known: str | None  # the person's language: stored, or found on first contact; None: not known yet
    locale: str  # ``known``, else the library's default
    locales: list[str]  # ``locale`` first, then every other: where keywords are looked up
    actions: list[str]  # every keyword action the text matches, in its keyword set's order

    @property
    def channel(self) -> str:
        return self.turn.channel

    @property
    def text(self) -> str:
        return self.turn.text

    @property
    def flow(self) -> str:
        """Where the person is: the state's flow (NEW when there is none), for comparing with
        the flow names; a flow that stores it back reads the state itself."""
        return str(self.out.state.get("flow", NEW))

    @property
    def keyword(self) -> str | None:
        """The global keyword the text is (STOP, HELP, TALK...), if any."""
        return next((a for a in self.actions if a in GLOBAL_ACTIONS), None)

    @property
    def reply(self) -> str | None:
        """A reply keyword (YES, NO, NEXT, BACK, MENU, PAUSE...), if any: what flows read answers by."""
        return next((a for a in self.actions if a not in GLOBAL_ACTIONS and a != "start"), None)

    @property
    def first_action(self) -> str | None:
        return self.actions[0] if self.actions else None


class Flow(Protocol):
    """A part of the conversation: says whether a turn is its own, and answers it."""

    name: str

    def handles(self, ctx: Context) -> bool: ...
    def step(self, ctx: Context) -> Outcome: ...
