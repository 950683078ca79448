"""When a person can honestly expect a health worker: staffed hours, the rota, and the promise.

Everything here is a pure function of its arguments (``now`` is passed in). A moment is
staffed when the region's staffed hours cover it, or a rota shift does. While staffed,
the person is promised a reply within the configured time; otherwise they are told the
day and hour staff come back, with the emergency numbers for now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.hours import InvalidHours, WeeklyHours

LOOKAHEAD_DAYS = 8


class InvalidStaffedHours(InvalidHours):
    """Staffed hours that cannot be read."""


@dataclass(frozen=True)
class StaffedHours:
    """Local weekly hours, e.g. ``mon-fri 08:00-17:00, sat 09:00-12:00``; empty means none."""

    week: WeeklyHours = WeeklyHours()

    @classmethod
    def parse(cls, text: str) -> StaffedHours:
        try:
            return cls(WeeklyHours.parse(text))
        except InvalidHours as exc:
            raise InvalidStaffedHours(str(exc)) from None

    def covers(self, local: datetime) -> bool:
        return self.week.covers(local)

    def next_start(self, local: datetime) -> datetime | None:
        """The next local moment a block begins, after ``local``."""
        return self.week.next_start(local)


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
