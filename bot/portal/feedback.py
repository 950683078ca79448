"""Field feedback per module and locale: who started, who finished, who dropped off, and ratings.

Read from the worker's audit events: ``module_started:<id>`` and ``module_completed:<id>``
carry the locale the module was delivered in, and ``module_rated`` carries the module, the
locale and the one number a person gave when asked at the end (never any words). A person
dropped off when their latest start of a module in the window has no completion after it,
and that start is more than a day old; younger starts are counted as still going. Every
figure counts distinct people and nothing here names one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.tables import AuditEvent

STARTED = "module_started:"
COMPLETED = "module_completed:"
RATED = "module_rated"
STILL_GOING = timedelta(days=1)
UNKNOWN_LOCALE = "?"
SCALE = (1, 2, 3, 4, 5)


@dataclass
class ModuleFeedback:
    """One module in one locale over the report's window."""

    module: str
    locale: str
    started: int = 0
    finished: int = 0
    dropped: int = 0
    going: int = 0
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def average(self) -> float | None:
        return round(sum(r * n for r, n in self.ratings.items()) / self.rated, 1) if self.rated else None

    @property
    def drop_rate(self) -> float | None:
        """Share of the people whose outcome is known (finished or dropped) who dropped off."""
        known = self.finished + self.dropped
        return round(self.dropped / known, 2) if known else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def module_feedback(session: Session, since: datetime, now: datetime | None = None) -> list[ModuleFeedback]:
    """Every module and locale with activity since ``since``, most started first."""
    now = now or datetime.now(UTC)
    locale = func.coalesce(AuditEvent.detail["locale"].as_string(), UNKNOWN_LOCALE)
    table: dict[tuple[str, str], ModuleFeedback] = {}

    def entry(module: str, loc: str | None) -> ModuleFeedback:
        key = (module, loc or UNKNOWN_LOCALE)
        if key not in table:
            table[key] = ModuleFeedback(*key)
        return table[key]

    starts: dict[tuple[str, str, int], datetime] = {}
    for action, loc, contact, when in session.execute(
        select(AuditEvent.action, locale, AuditEvent.contact_id, func.max(AuditEvent.created_at))
        .where(AuditEvent.action.startswith(STARTED, autoescape=True), AuditEvent.created_at >= since)
        .group_by(AuditEvent.action, locale, AuditEvent.contact_id)
    ):
        if contact is not None:
            starts[(action.removeprefix(STARTED), loc, contact)] = _aware(when)
    finishes: dict[tuple[str, int], datetime] = {}
    finished_people: dict[tuple[str, str], set[int]] = defaultdict(set)
    for action, loc, contact, when in session.execute(
        select(AuditEvent.action, locale, AuditEvent.contact_id, func.max(AuditEvent.created_at))
        .where(AuditEvent.action.startswith(COMPLETED, autoescape=True), AuditEvent.created_at >= since)
        .group_by(AuditEvent.action, locale, AuditEvent.contact_id)
    ):
        module = action.removeprefix(COMPLETED)
        finished_people[(module, loc)].add(contact)
        if contact is not None:
            finishes[(module, contact)] = max(_aware(when), finishes.get((module, contact), _aware(when)))
    for (module, loc), people in finished_people.items():
        entry(module, loc).finished = len(people)
    for (module, loc, contact), started_at in starts.items():
        row = entry(module, loc)
        row.started += 1
        finished_at = finishes.get((module, contact))
        if finished_at is not None and finished_at >= started_at:
            continue
        if now - started_at < STILL_GOING:
            row.going += 1
        else:
            row.dropped += 1
    # one expression object per column, so GROUP BY repeats exactly what SELECT says (PostgreSQL checks)
    rated_module, rating = AuditEvent.detail["module"].as_string(), AuditEvent.detail["rating"].as_integer()
    for module, loc, value, n in session.execute(
        select(rated_module, locale, rating, func.count(AuditEvent.id))
        .where(AuditEvent.action == RATED, AuditEvent.created_at >= since)
        .group_by(rated_module, locale, rating)
    ):
        if module and value in SCALE:
            ratings = entry(module, loc).ratings
            ratings[value] = ratings.get(value, 0) + n
    return sorted(table.values(), key=lambda f: (-f.started, -f.finished, f.module, f.locale))
