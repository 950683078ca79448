"""When a service answers: weekly opening hours in its region's time zone.

Region files write them as ``24/7`` or as blocks like ``mon-fri 08:00-17:00, sat 09:00-13:00``
(days mon..sun, 24-hour clock, ``24:00`` for midnight at the end of a day; a block does not
cross midnight, so a night line is written ``mon-sun 18:00-24:00, mon-sun 00:00-06:00``).
Everything here is a pure function of its arguments: the moment is passed in, so a crisis
reply can say which services are open now and when the others open, and tests can fix the
clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = ("24/7", "always")
_BLOCK = re.compile(r"^(?:(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+)?(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2})$")
_WEEK = 7


class InvalidHours(ValueError):
    """Opening hours that cannot be read; the message says which part and why."""


def _minute(text: str) -> int:
    hours, _, minutes = text.partition(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise InvalidHours(f"'{text}' is not a time of day (00:00 to 24:00)")
    return h * 60 + m


@dataclass(frozen=True)
class Block:
    """Some days of the week (0 = Monday), from ``start`` to ``end`` minutes after midnight."""

    days: frozenset[int]
    start: int
    end: int


@dataclass(frozen=True)
class OpeningHours:
    """A weekly timetable; ``always`` for a 24-hour line, no blocks for unknown hours."""

    blocks: tuple[Block, ...] = ()
    always: bool = False

    @property
    def known(self) -> bool:
        return self.always or bool(self.blocks)

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Read ``24/7`` or ``mon-fri 08:00-17:00, sat 09:00-13:00``; empty text: hours unknown."""
        cleaned = text.strip().lower()
        if cleaned in ALWAYS:
            return cls(always=True)
        blocks = []
        for part in filter(None, (p.strip() for p in cleaned.split(","))):
            match = _BLOCK.match(" ".join(part.split()))
            if not match:
                raise InvalidHours(f"cannot read '{part}'; write it like 'mon-fri 08:00-17:00' or '24/7'")
            d1, d2 = match["d1"], match["d2"]
            if d1 is None:
                days = frozenset(range(_WEEK))
            else:
                if d1 not in DAYS or (d2 is not None and d2 not in DAYS):
                    raise InvalidHours(f"unknown day in '{part}' (use mon, tue, wed, thu, fri, sat, sun)")
                first, last = DAYS.index(d1), DAYS.index(d2 or d1)
                span = range(first, last + 1) if first <= last else [*range(first, _WEEK), *range(0, last + 1)]
                days = frozenset(span)
            start, end = _minute(match["t1"]), _minute(match["t2"])
            if end <= start:
                raise InvalidHours(f"'{part}' ends before it starts; split a night across midnight in two blocks")
            blocks.append(Block(days, start, end))
        if not blocks and cleaned:
            raise InvalidHours(f"cannot read '{text}'")
        return cls(tuple(blocks))

    def is_open(self, now: datetime, zone: ZoneInfo) -> bool:
        """Open at ``now`` (an aware moment), read in the region's zone. Unknown hours: False."""
        if self.always:
            return True
        local = now.astimezone(zone)
        minute = local.hour * 60 + local.minute
        return any(local.weekday() in b.days and b.start <= minute < b.end for b in self.blocks)

    def next_opening(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """The next local moment a block begins after ``now`` (None: always open or never)."""
        if self.always or not self.blocks:
            return None
        local = now.astimezone(zone)
        best = None
        for offset in range(_WEEK + 1):
            day = (local + timedelta(days=offset)).date()
            for block in self.blocks:
                if day.weekday() not in block.days or block.start >= 24 * 60:
                    continue
                start = datetime.combine(day, time(block.start // 60, block.start % 60), tzinfo=zone)
                if start > local and (best is None or start < best):
                    best = start
            if best is not None:
                return best
        return None


def describe(text: str) -> str:
    """The hours as written in the region file, tidied for a list of services."""
    return " ".join(text.split())
