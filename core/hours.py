"""Weekly hours in local time: ``mon-fri 08:00-17:00, sat 09:00-13:00``.

One reader for every timetable the service keeps: when a helpline answers
(``content.hours``) and when health workers are on duty (``core.oncall.availability``).
Days are mon..sun, the clock is 24-hour with ``24:00`` for midnight at the end of a day,
and a block does not cross midnight (a night is written as two blocks). Everything is a
pure function of its arguments: the moment is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.exceptions import TumainiError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7
DAY_MINUTES = 24 * 60
_BLOCK = re.compile(r"^(?:(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+)?(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2})$")


class InvalidHours(TumainiError, ValueError):
    """Hours that cannot be read; the message says which part and why."""


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


def _days(part: str, d1: str | None, d2: str | None) -> frozenset[int]:
    if d1 is None:
        return frozenset(range(WEEK))
    if d1 not in DAYS or (d2 is not None and d2 not in DAYS):
        raise InvalidHours(f"unknown day in '{part}' (use mon, tue, wed, thu, fri, sat, sun)")
    first, last = DAYS.index(d1), DAYS.index(d2 or d1)
    return frozenset(range(first, last + 1) if first <= last else [*range(first, WEEK), *range(0, last + 1)])


@dataclass(frozen=True)
class WeeklyHours:
    """The blocks of a weekly timetable; no blocks means none (or unknown) hours."""

    blocks: tuple[Block, ...] = ()

    @classmethod
    def parse(cls, text: str, example: str = "'mon-fri 08:00-17:00'") -> WeeklyHours:
        """Read comma-separated blocks such as ``mon-fri 08:00-17:00``; empty text gives no blocks.

        ``example`` is what an error suggests writing instead.
        """
        blocks = []
        for part in filter(None, (p.strip() for p in text.lower().split(","))):
            match = _BLOCK.match(part)
            if not match:
                raise InvalidHours(f"cannot read '{part}'; write it like {example}")
            days = _days(part, match["d1"], match["d2"])
            start, end = _minute(match["t1"]), _minute(match["t2"])
            if end <= start:
                raise InvalidHours(f"'{part}' ends before it starts; split a night across midnight in two blocks")
            blocks.append(Block(days, start, end))
        return cls(tuple(blocks))

    def covers(self, local: datetime) -> bool:
        """Whether a block covers ``local`` (a moment in the timetable's own zone)."""
        minute = local.hour * 60 + local.minute
        return any(local.weekday() in b.days and b.start <= minute < b.end for b in self.blocks)

    def next_start(self, local: datetime) -> datetime | None:
        """The next local moment a block begins after ``local``, within a week; None if none does."""
        best = None
        for offset in range(WEEK + 1):
            day = (local + timedelta(days=offset)).date()
            for block in self.blocks:
                if day.weekday() not in block.days or block.start >= DAY_MINUTES:
                    continue
                start = datetime.combine(day, time(block.start // 60, block.start % 60), tzinfo=local.tzinfo)
                if start > local and (best is None or start < best):
                    best = start
            if best is not None:
                return best
        return None
