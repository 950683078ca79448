"""The honest answer to "when will a person reply?", for a region, now.

The worker asks this once per message and hands the answer to the conversation engine
(``Turn.availability``), which words it in the person's language from approved content.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from core.oncall.availability import LOOKAHEAD_DAYS, Availability, StaffedHours, availability
from core.oncall.rota import shift_spans


def current(session: Session, config: Any, region: str, time_zone: str | None, now: datetime) -> Availability:
    try:
        tz = ZoneInfo(time_zone or config.DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(config.DEFAULT_TIMEZONE)
    shifts = shift_spans(session, region, now, now + timedelta(days=LOOKAHEAD_DAYS))
    return availability(now, tz, StaffedHours.parse(config.STAFFED_HOURS), shifts, config.ONCALL_REPLY_WITHIN_MIN)
