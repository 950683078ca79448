"""The "Failed work" page for admins: failures with their reasons, and Retry buttons.

Each retry is one audited staff action. The database change is committed first, then the
job is queued; if Redis does not answer, the row is already back in line and the sweeper
queues it once Redis is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from redis.exceptions import RedisError

from bot.portal import failures
from bot.portal.failures import RetryRefused
from bot.portal.roles import FAILURES_RETRY, FAILURES_VIEW
from bot.portal.web import audit, db, require, services
from core.outbox import queue_next_for

log = logging.getLogger(__name__)
bp = Blueprint("failures", __name__, url_prefix="/failures")


def _limit() -> int:
    asked = request.args.get("limit", failures.DEFAULT_LIMIT, type=int) or failures.DEFAULT_LIMIT
    return max(1, min(asked, failures.MAX_LIMIT))


def _back(anchor: str) -> Any:
    return redirect(url_for("portal.failures.page", _anchor=anchor))


def _queue_later(event: str, **ids: Any) -> None:
    log.warning(event, extra=ids)
    flash(_("Saved. It goes back in line as soon as the queue answers again."), "info")


def _retry_row(kind: str, retry: Callable[[Any, int], Any], row_id: int) -> Any | None:
    """Put one failed row back in line, audited and committed; None (with the reason shown) if refused."""
    try:
        retried = retry(db(), row_id)
    except RetryRefused as exc:
        db().rollback()
        flash(str(exc), "error")
        return None
    audit(f"{kind}.retried", contact_id=retried.contact_id, **retried.detail)
    db().commit()
    return retried


@bp.get("/")
@require(FAILURES_VIEW)
def page() -> Any:
    limit = _limit()
    work = failures.collect(db(), services().redis, limit)
    return render_template("portal/failures.html", work=work, limit=limit, max_limit=failures.MAX_LIMIT)


@bp.post("/inbound/<int:message_id>/retry")
@require(FAILURES_RETRY)
def retry_inbound(message_id: int) -> Any:
    retried = _retry_row("inbound", failures.retry_inbound, message_id)
    if retried is None:
        return _back("inbound")
    s = services()
    try:
        s.jobs.enqueue_inbound_unless_live(message_id, s.config.PROCESSING_LEASE_S)
    except RedisError:
        _queue_later("portal.retry_queue_unavailable", inbound_id=message_id)
    else:
        flash(_("Message #%(id)d is back in line to be answered.", id=message_id), "ok")
    return _back("inbound")


@bp.post("/outbox/<int:outbox_id>/retry")
@require(FAILURES_RETRY)
def retry_send(outbox_id: int) -> Any:
    retried = _retry_row("outbox", failures.retry_send, outbox_id)
    if retried is None:
        return _back("outbox")
    s = services()
    try:
        failures.forget_failed_sends(s.redis, outbox_id, int(retried.detail["attempts"]))
        if retried.contact_id is not None:
            queue_next_for(s, retried.contact_id)
    except RedisError:
        _queue_later("portal.retry_queue_unavailable", outbox_id=outbox_id)
    else:
        flash(_("Message #%(id)d is back in line to be sent.", id=outbox_id), "ok")
    return _back("outbox")


@bp.post("/jobs/<queue>/<job_id>/retry")
@require(FAILURES_RETRY)
def retry_job(queue: str, job_id: str) -> Any:
    audit("job.requeued", queue=queue, job_id=job_id)
    try:
        failures.requeue_job(services().redis, queue, job_id)
    except RetryRefused as exc:
        db().rollback()
        flash(str(exc), "error")
        return _back("jobs")
    except RedisError:
        db().rollback()
        flash(_("The queue does not answer; try again in a moment."), "error")
        return _back("jobs")
    db().commit()
    flash(_("Job %(id)s is back on its queue.", id=job_id), "ok")
    return _back("jobs")
