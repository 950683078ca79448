"""How fast staff answered, per week and region: time to acknowledge, time to first human
reply, and the cases that breached their time to acknowledge. Counts and durations only.

A case breached when it was acknowledged after its deadline, or is still unacknowledged
past it. The portal's reports and ``/metrics`` both read this.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.tables import Escalation


@dataclass(frozen=True)
class WeekRegion:
    week: date  # the Monday (UTC) the week starts
    region: str
    alerted: int
    acknowledged: int
    replied: int
    breached: int
    ack_median_s: float | None
    ack_max_s: float | None
    reply_median_s: float | None
    reply_max_s: float | None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def breached(due: datetime | None, acknowledged: datetime | None, now: datetime) -> bool:
    if due is None:
        return False
    return (acknowledged or now) > due


def _cases(session: Session, since: datetime) -> list[tuple[datetime, str | None, Times]]:
    rows = session.execute(
        select(
            Escalation.opened_at,
            Escalation.region,
            Escalation.ack_due_at,
            Escalation.acknowledged_at,
            Escalation.first_reply_at,
        ).where(Escalation.opened_at >= since, Escalation.ack_due_at.is_not(None))
    )
    found = []
    for opened, region, due, acked, replied in rows:
        start = _aware(opened) or opened
        found.append((start, region, (start, _aware(due), _aware(acked), _aware(replied))))
    return found


Times = tuple[datetime, datetime | None, datetime | None, datetime | None]  # opened, due, acknowledged, replied


def _summary(week: date, region: str, cases: list[Times], now: datetime) -> WeekRegion:
    acks = [(acked - opened).total_seconds() for opened, _due, acked, _r in cases if acked]
    replies = [(replied - opened).total_seconds() for opened, _d, _a, replied in cases if replied]
    return WeekRegion(
        week,
        region,
        len(cases),
        len(acks),
        len(replies),
        sum(1 for _o, due, acked, _r in cases if breached(due, acked, now)),
        statistics.median(acks) if acks else None,
        max(acks) if acks else None,
        statistics.median(replies) if replies else None,
        max(replies) if replies else None,
    )


def weekly(session: Session, since: datetime, now: datetime, default_region: str = "") -> list[WeekRegion]:
    """Alerted cases opened since ``since``, grouped by (week, region), newest week first."""
    groups: dict[tuple[date, str], list[Times]] = defaultdict(list)
    for opened, region, times in _cases(session, since):
        week = opened.date() - timedelta(days=opened.weekday())
        groups[(week, region or default_region)].append(times)
    result = [_summary(week, region, cases, now) for (week, region), cases in groups.items()]
    return sorted(result, key=lambda r: (r.week, r.region), reverse=True)


def by_region(session: Session, since: datetime, now: datetime, default_region: str = "") -> list[WeekRegion]:
    """The same figures over one window (``week`` is the window's first day), per region."""
    groups: dict[str, list[Times]] = defaultdict(list)
    for _opened, region, times in _cases(session, since):
        groups[region or default_region].append(times)
    return [_summary(since.date(), region, cases, now) for region, cases in sorted(groups.items())]
