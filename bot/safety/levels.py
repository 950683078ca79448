"""The gate's verdict: an ordered risk level plus what fired.

Levels are ordered so callers can write ``assessment.level >= Level.HIGH`` for
"open the crisis path". The assessment names rule and lexicon ids, never the
text that matched, so it can be logged and stored without carrying a message
body.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.IntEnum):
    """Risk levels in increasing order of urgency."""

    NONE = 0
    CONCERN = 1  # distress without danger: a supportive check-in
    HIGH = 2  # thoughts of suicide or self-harm, abuse, harm to others: crisis path
    IMMINENT = 3  # a plan, means or time: crisis path, escalate at once

    @classmethod
    def parse(cls, name: str) -> Level:
        """Read a level as written in lexicon files (``none``, ``concern``...)."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown level {name!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


CATEGORIES = frozenset({"suicide", "self_harm", "abuse", "harm_to_others", "distress"})
SIGNALS = frozenset({"method", "time", "farewell"})


@dataclass(frozen=True)
class Assessment:
    """What the gate concluded about one message.

    ``rules`` holds the ids of lexicon entries and combination rules that
    fired, in a stable order; ``lang_checked`` the lexicon locales applied to
    the original text, the message's own language first.
    """

    level: Level
    categories: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    lang_checked: tuple[str, ...] = ()

    @property
    def is_crisis(self) -> bool:
        """True when the crisis path must open (HIGH or IMMINENT)."""
        return self.level >= Level.HIGH
