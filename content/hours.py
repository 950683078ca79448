"""When a service answers: weekly opening hours in its region's time zone.

Region files write them as ``24/7`` or as blocks like ``mon-fri 08:00-17:00, sat 09:00-13:00``
(days mon..sun, 24-hour clock, ``24:00`` for midnight at the end of a day; a block does not
cross midnight, so a night line is written ``mon-sun 18:00-24:00, mon-sun 00:00-06:00``).
Everything here is a pure function of its arguments: the moment is passed in, so a crisis
reply can say which services are open now and when the others open, and tests can fix the
clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.hours import InvalidHours, WeeklyHours

__all__ = ["ALWAYS", "InvalidHours", "OpeningHours", "describe"]

ALWAYS = ("24/7", "always")


@dataclass(frozen=True)
class OpeningHours:
    """A weekly timetable; ``always`` for a 24-hour line, no blocks for unknown hours."""

    week: WeeklyHours = WeeklyHours()
    always: bool = False

    @property
    def known(self) -> bool:
        return self.always or bool(self.week.blocks)

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Read ``24/7`` or ``mon-fri 08:00-17:00, sat 09:00-13:00``; empty text: hours unknown."""
        cleaned = " ".join(text.lower().split())
        if cleaned in ALWAYS:
            return cls(always=True)
        week = WeeklyHours.parse(cleaned, example="'mon-fri 08:00-17:00' or '24/7'")
        if not week.blocks and cleaned:
            raise InvalidHours(f"cannot read '{text}'")
        return cls(week)

    def is_open(self, now: datetime, zone: ZoneInfo) -> bool:
        """Open at ``now`` (an aware moment), read in the region's zone. Unknown hours: False."""
        return self.always or self.week.covers(now.astimezone(zone))

    def next_opening(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """The next local moment a block begins after ``now`` (None: always open or never)."""
        return None if self.always else self.week.next_start(now.astimezone(zone))


def describe(text: str) -> str:
    """The hours as written in the region file, tidied for a list of services."""
    return " ".join(text.split())
