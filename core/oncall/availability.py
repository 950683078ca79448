"""When a person can honestly expect a health worker: staffed hours, the rota, and the promise.

Everything here is a pure function of its arguments (``now`` is passed in). A moment is
staffed when the region's staffed hours cover it, or a rota shift does. While staffed,
the person is promised a reply within the configured time; otherwise they are told the
day and hour staff come back, with the emergency numbers for now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.exceptions import TumainiError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BLOCK = re.compile(r"^(?:(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+)?(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2})$")
LOOKAHEAD_DAYS = 8


class InvalidStaffedHours(TumainiError):
    """Staffed hours that cannot be read."""


def _clock(text: str) -> time:
    hours, _, minutes = text.partition(":")
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time(23, 59, 59)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise InvalidStaffedHours(f"{text!r} is not a time of day")
    return time(h, m)


@dataclass(frozen=True)
class Block:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time  # after start: a block does not cross midnight


@dataclass(frozen=True)
class StaffedHours:
    """Local weekly hours, e.g. ``mon-fri 08:00-17:00, sat 09:00-12:00``; empty means none."""

    blocks: tuple[Block, ...] = ()

    @classmethod
    def parse(cls, text: str) -> StaffedHours:
        blocks = []
        for part in filter(None, (p.strip().lower() for p in text.split(","))):
            match = _BLOCK.match(part)
            if not match:
                raise InvalidStaffedHours(f"cannot read {part!r}")
            d1, d2 = match["d1"], match["d2"]
            if d1 is None:
                days = frozenset(range(7))
            else:
                if d1 not in DAYS or (d2 is not None and d2 not in DAYS):
                    raise InvalidStaffedHours(f"unknown day in {part!r} (use mon, tue, ... sun)")
                first, last = DAYS.index(d1), DAYS.index(d2 or d1)
                days = (
                    frozenset(range(first, last + 1))
                    if first <= last
                    else frozenset(list(range(first, 7)) + list(range(0, last + 1)))
                )
            start, end = _clock(match["t1"]), _clock(match["t2"])
            if end <= start:
                raise InvalidStaffedHours(f"{part!r} ends before it starts")
            blocks.append(Block(days, start, end))
        return cls(tuple(blocks))

    def covers(self, local: datetime) -> bool:
        clock = local.time()
        return any(local.weekday() in b.days and b.start <= clock < b.end for b in self.blocks)

    def next_start(self, local: datetime) -> datetime | None:
        """The next local moment a block begins, after ``local``."""
        best = None
        for offset in range(LOOKAHEAD_DAYS):
            day = (local + timedelta(days=offset)).date()
            for b in self.blocks:
                if day.weekday() not in b.days:
                    continue
                start = datetime.combine(day, b.start, tzinfo=local.tzinfo)
                if start > local and (best is None or start < best):
                    best = start
            if best is not None:
                return best
        return None


@dataclass(frozen=True)
class Availability:
    """What can honestly be promised now. ``back_at`` is local time in the region's zone."""

    staffed: bool
    within_minutes: int
    back_at: datetime | None = None
    back_in_days: int = 0  # 0 today, 1 tomorrow, more: a named day


def availability(
    now: datetime, tz: ZoneInfo, hours: StaffedHours, shifts: Sequence[tuple[datetime, datetime]], within_minutes: int
) -> Availability:
    """Staffed now (hours or a shift covering ``now``), else when staff are next on duty."""
    local = now.astimezone(tz)
    if hours.covers(local) or any(start <= now < end for start, end in shifts):
        return Availability(True, within_minutes)
    candidates = [start.astimezone(tz) for start, _ in shifts if start > now]
    nxt = hours.next_start(local)
    if nxt is not None:
        candidates.append(nxt)
    if not candidates:
        return Availability(False, within_minutes)
    back = min(candidates)
    return Availability(False, within_minutes, back, (back.date() - local.date()).days)
