"""Aggregate figures for programme staff and funders, never about one person.

Both CSV exports write every text cell formula-safe (content.spreadsheet.SafeWriter): a
module id or audit detail starting with ``= + - @`` opens as text in a spreadsheet.

Everything here is a count over a date window (UTC days): messages each way, people who
wrote, modules completed, screening results by instrument and band, cases opened. No
query returns a contact id, a number or a text, so a report can be shared as it is.
The audit log export is separate and for admins only.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.portal.feedback import ModuleFeedback, module_feedback
from content.spreadsheet import SafeWriter
from core import health
from core.crypto import Cipher
from core.oncall.response_report import WeekRegion, weekly
from core.tables import AuditEvent, Contact, Escalation, InboundMessage, OutboxMessage

MODULE_COMPLETED = "module_completed:"
SCREENING_COMPLETED = "screening_completed"
MAX_DAYS = 366


@dataclass(frozen=True)
class Day:
    day: date
    inbound: int
    outbound: int
    people: int  # distinct people who wrote that day


@dataclass
class Report:
    start: date
    end: date  # inclusive
    days: list[Day] = field(default_factory=list)
    active_people: int = 0
    new_people: int = 0
    modules: list[tuple[str, int]] = field(default_factory=list)
    screenings: dict[str, dict[str, int]] = field(default_factory=dict)
    escalations: dict[str, int] = field(default_factory=dict)
    feedback: list[ModuleFeedback] = field(default_factory=list)  # per module and locale
    response: list[WeekRegion] = field(default_factory=list)  # staff response times per week and region

    @property
    def busiest(self) -> int:
        return max([d.inbound + d.outbound for d in self.days] or [0])


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def build(session: Session, days: int = 30, today: date | None = None, cipher: Cipher | None = None) -> Report:
    """The report for the ``days`` days ending today (UTC).

    Screening results are sealed health events (core.health) until their retention turns them
    into unlinked aggregates; ``cipher`` opens the sealed ones (without it, only aggregates count).
    """
    days = max(1, min(days, MAX_DAYS))
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, tzinfo=UTC)
    report = Report(start, end)

    in_day = func.date(InboundMessage.received_at)
    inbound = {
        _day(d): (n, people)
        for d, n, people in session.execute(
            select(in_day, func.count(InboundMessage.id), func.count(func.distinct(InboundMessage.from_hash)))
            .where(InboundMessage.received_at >= since)
            .group_by(in_day)
        )
    }
    out_day = func.date(OutboxMessage.created_at)
    outbound = {
        _day(d): n
        for d, n in session.execute(
            select(out_day, func.count(OutboxMessage.id)).where(OutboxMessage.created_at >= since).group_by(out_day)
        )
    }
    for offset in range(days):
        d = start + timedelta(days=offset)
        n_in, people = inbound.get(d, (0, 0))
        report.days.append(Day(d, n_in, outbound.get(d, 0), people))

    report.active_people = (
        session.scalar(
            select(func.count(func.distinct(InboundMessage.from_hash))).where(InboundMessage.received_at >= since)
        )
        or 0
    )
    report.new_people = session.scalar(select(func.count(Contact.id)).where(Contact.created_at >= since)) or 0
    completions = session.execute(
        select(AuditEvent.action, func.count(AuditEvent.id))
        .where(AuditEvent.action.startswith(MODULE_COMPLETED, autoescape=True), AuditEvent.created_at >= since)
        .group_by(AuditEvent.action)
    )
    report.modules = sorted(
        ((a.removeprefix(MODULE_COMPLETED), n) for a, n in completions), key=lambda pair: (-pair[1], pair[0])
    )
    bands: Counter[tuple[str, str]] = Counter()
    for action, detail in session.execute(
        select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.action.in_([SCREENING_COMPLETED, health.HEALTH]), AuditEvent.created_at >= since
        )
    ):
        if action == health.HEALTH:
            if cipher is None:
                continue
            action, detail = health.open_event(cipher, action, detail)
        if action != SCREENING_COMPLETED:
            continue
        bands[(str(detail.get("instrument", "?")), str(detail.get("band", "?")))] += 1
    for (instrument, band), n in sorted(bands.items()):
        report.screenings.setdefault(instrument, {})[band] = n
    report.escalations = dict(
        session.execute(
            select(Escalation.severity, func.count(Escalation.id))
            .where(Escalation.opened_at >= since)
            .group_by(Escalation.severity)
        ).all()
    )
    report.feedback = module_feedback(session, since)
    report.response = weekly(session, since, datetime.now(UTC))
    return report


def to_csv(report: Report) -> str:
    """One tidy table: metric, key, sub-key, value (spreadsheets pivot it easily)."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["metric", "key", "subkey", "value"])
    writer.writerow(["window", report.start.isoformat(), report.end.isoformat(), (report.end - report.start).days + 1])
    for d in report.days:
        writer.writerow(["messages_in", d.day.isoformat(), "", d.inbound])
        writer.writerow(["messages_out", d.day.isoformat(), "", d.outbound])
        writer.writerow(["people_writing", d.day.isoformat(), "", d.people])
    writer.writerow(["active_people", "", "", report.active_people])
    writer.writerow(["new_people", "", "", report.new_people])
    for module, n in report.modules:
        writer.writerow(["module_completions", module, "", n])
    for instrument, bands in report.screenings.items():
        for band, n in bands.items():
            writer.writerow(["screenings", instrument, band, n])
    for severity, n in sorted(report.escalations.items()):
        writer.writerow(["escalations_opened", severity, "", n])
    for r in report.response:
        key, region = r.week.isoformat(), r.region
        writer.writerow(["cases_alerted", key, region, r.alerted])
        writer.writerow(["cases_acknowledged", key, region, r.acknowledged])
        writer.writerow(["cases_breached", key, region, r.breached])
        writer.writerow(["ack_median_seconds", key, region, "" if r.ack_median_s is None else round(r.ack_median_s)])
        writer.writerow(["first_reply_median_seconds", key, region,
                         "" if r.reply_median_s is None else round(r.reply_median_s)])
    for f in report.feedback:
        writer.writerow(["module_started", f.module, f.locale, f.started])
        writer.writerow(["module_finished", f.module, f.locale, f.finished])
        writer.writerow(["module_dropped_off", f.module, f.locale, f.dropped])
        writer.writerow(["module_still_going", f.module, f.locale, f.going])
        for rating, n in sorted(f.ratings.items()):
            writer.writerow([f"module_rated_{rating}", f.module, f.locale, n])
        if f.average is not None:
            writer.writerow(["module_rating_average", f.module, f.locale, f.average])
    return out.getvalue()


AUDIT_COLUMNS = ("id", "created_at", "actor", "action", "contact_id", "detail")


def audit_csv(session: Session, since: datetime | None = None, batch: int = 1000) -> Iterator[str]:
    """The audit log as CSV, oldest first, produced in batches so a long log streams."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(AUDIT_COLUMNS)
    yield out.getvalue()
    last = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
        if since is not None:
            query = query.where(AuditEvent.created_at >= since)
        rows = session.scalars(query).all()
        if not rows:
            return
        out.seek(0)
        out.truncate()
        for e in rows:
            writer.writerow(
                [
                    e.id,
                    e.created_at.isoformat(),
                    e.actor,
                    e.action,
                    e.contact_id or "",
                    json.dumps(e.detail or {}, sort_keys=True, ensure_ascii=False),
                ]
            )
        last = rows[-1].id
        yield out.getvalue()
