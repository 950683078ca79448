"""Report pages and CSV exports (aggregate report; the audit log for admins)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context

from bot.portal import reports
from bot.portal.roles import AUDIT_EXPORT, REPORTS_VIEW
from bot.portal.web import audit, db, require, services

bp = Blueprint("reports", __name__)


def _days() -> int:
    return max(1, min(request.args.get("days", 30, type=int) or 30, reports.MAX_DAYS))


@bp.get("/reports")
@require(REPORTS_VIEW)
def page() -> Any:
    report = reports.build(db(), _days(), cipher=services().cipher)
    return render_template("portal/reports.html", report=report, days=_days())


@bp.get("/reports.csv")
@require(REPORTS_VIEW)
def report_csv() -> Response:
    report = reports.build(db(), _days(), cipher=services().cipher)
    name = f"tumaini-report-{report.start.isoformat()}-{report.end.isoformat()}.csv"
    return Response(
        reports.to_csv(report), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/audit.csv")
@require(AUDIT_EXPORT)
def audit_csv() -> Response:
    """The whole audit log (or since ?since=YYYY-MM-DD); the export itself is audited."""
    raw = request.args.get("since", "")
    try:
        since = datetime.combine(date.fromisoformat(raw), time.min, tzinfo=UTC) if raw else None
    except ValueError:
        since = None
    audit("audit.exported", since=raw or None)
    db().commit()
    database = services().db

    def rows() -> Any:
        session = database.new_session()
        try:
            yield from reports.audit_csv(session, since)
        finally:
            session.close()

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tumaini-audit-log.csv"'},
    )
