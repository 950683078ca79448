"""Failed work: what the service could not do, why, and putting it back in line.

Four kinds are listed for admins, newest first: inbound messages whose processing crashed
too often, outbox rows that failed or were undelivered (with Twilio's error code),
scheduled messages that were skipped (missed window, paused, quiet hours), and the jobs
in RQ's failed registry of each queue. Nothing here holds a message body or a phone
number: people appear by their contact id, exceptions by type and a scrubbed last line.

Retrying keeps each row's guarantees. An inbound message goes back to "received" with its
attempts and lease cleared, so a worker claims it afresh. An outbox row goes back only
from "failed": to "pending" when Twilio certainly did not take it, or to "sending" when
the outcome is unknown, so the worker looks in Twilio's records before it sends anything
(exactly once). A row in "sending", one Twilio accepted, and one to a person who opted
out are never resent. Skipped scheduled messages are not retried: late course content is
never sent in the night. A failed RQ job is requeued as it was; every job takes a row id
and is idempotent, so running it again never sends twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.results import Result
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.portal.errors import PortalError
from core.outbox import ErrorKind
from core.queue import ALL_QUEUES, SCHEDULED, SEND, SERIALIZER, send_job_id
from core.tables import (
    Contact,
    CourseEnrollment,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
RETRY_PENDING = "pending"
RETRY_RECONCILE = "reconcile"


class RetryRefused(PortalError):
    """The row cannot be retried from its current state (or is already being retried)."""


@dataclass(frozen=True)
class FailedInbound:
    id: int
    contact_id: int | None
    channel: str
    received_at: datetime
    last_tried_at: datetime | None
    attempts: int
    error: str


@dataclass(frozen=True)
class FailedSend:
    id: int
    contact_id: int | None
    channel: str
    kind: str
    content_ref: str
    status: str
    error_code: int | None
    error: str
    attempts: int
    at: datetime
    temporary: bool  # Twilio may accept it later (429, 5xx, unreachable, the codes it calls retryable)
    retry: str  # RETRY_PENDING, RETRY_RECONCILE, or "" when it is never resent
    opted_out: bool


@dataclass(frozen=True)
class SkippedScheduled:
    id: int
    contact_id: int | None
    channel: str
    course: str
    step: int | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    function: str
    at: datetime | None
    exc_type: str
    last_line: str
    row: tuple[str, int] | None  # ("inbound" | "outbox", row id) when the job acts on a row


@dataclass
class Section:
    """One kind of failure: how many there are, and the newest of them."""

    total: int = 0
    items: list[Any] = field(default_factory=list)


@dataclass
class FailedWork:
    inbound: Section
    sends: Section
    skipped: Section
    jobs: dict[str, Section]
    queue_unavailable: bool = False

    @property
    def jobs_total(self) -> int:
        return sum(s.total for s in self.jobs.values())


# -- what is shown ------------------------------------------------------------------
_URL = re.compile(r"\b\w+://\S+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\+\d[\d\s().-]{6,}\d|\b\d{8,}\b")  # +254 711 ..., or 8+ digits in a row
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::\s*(.*))?$")


def scrub(text: str, limit: int = 160) -> str:
    """An error line with anything that could be personal removed: quoted values, long
    numbers (phone numbers), links. What is left says what went wrong, not to whom."""
    text = _URL.sub("…", text)
    text = _QUOTED.sub("'…'", text)
    text = _NUMBER.sub("…", text)
    return text.strip()[:limit]


def describe(exc_string: str | None) -> tuple[str, str]:
    """(exception type, scrubbed message) from a traceback's last exception line."""
    lines = [line for line in (exc_string or "").splitlines() if line.strip()]
    for line in reversed(lines):
        if line[0].isspace():
            continue
        match = _EXCEPTION_LINE.match(line)
        if match:
            name = match.group(1).rsplit(".", 1)[-1]
            if name[:1].isupper() and any(c.islower() for c in name):
                return name, scrub(match.group(2) or "")
    return "", scrub(lines[-1]) if lines else ""


def send_retry(status: str, error_kind: str | None, opted_out: bool) -> str:
    """How a row would be retried: back to pending, through reconciliation, or not at all.

    After a send whose outcome is unknown Twilio may hold the message, so a retry looks
    before it sends.
    """
    if status != OutboxStatus.FAILED or opted_out or error_kind == ErrorKind.OPTED_OUT:
        return ""
    return RETRY_RECONCILE if error_kind == ErrorKind.OUTCOME_UNKNOWN else RETRY_PENDING


def _temporary(error_kind: str | None) -> bool:
    """A failure that would likely not happen again (a busy network or carrier)."""
    return error_kind == ErrorKind.RETRYABLE


def _row_of(job_id: str) -> tuple[str, int] | None:
    if match := re.fullmatch(r"inbound-(\d+)", job_id):
        return "inbound", int(match.group(1))
    if match := re.fullmatch(r"send-(\d+)-\d+", job_id):
        return "outbox", int(match.group(1))
    return None


# -- listing ------------------------------------------------------------------------
def failed_inbound(session: Session, limit: int) -> Section:
    where = InboundMessage.status == InboundStatus.FAILED
    total = session.scalar(select(func.count()).select_from(InboundMessage).where(where)) or 0
    rows = session.execute(
        select(
            InboundMessage.id,
            func.coalesce(InboundMessage.contact_id, Contact.id),
            InboundMessage.channel,
            InboundMessage.received_at,
            InboundMessage.claimed_at,
            InboundMessage.attempts,
            InboundMessage.error,
        )
        .outerjoin(Contact, Contact.phone_hash == InboundMessage.from_hash)
        .where(where)
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    ).all()
    return Section(total, [FailedInbound(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "") for r in rows])


def failed_sends(session: Session, limit: int) -> Section:
    where = OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.UNDELIVERED))
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(where)) or 0
    at = func.coalesce(OutboxMessage.status_at, OutboxMessage.created_at)
    rows = session.execute(
        select(OutboxMessage, at, Contact.opted_out)
        .outerjoin(Contact, Contact.id == OutboxMessage.contact_id)
        .where(where)
        .order_by(at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    items = []
    for row, when, opted_out in rows:
        gone = bool(opted_out) or row.contact_id is None
        items.append(
            FailedSend(
                id=row.id,
                contact_id=row.contact_id,
                channel=row.channel,
                kind=row.kind,
                content_ref=row.content_ref or "",
                status=row.status,
                error_code=row.error_code,
                error=scrub(row.error or "", 200),
                attempts=row.attempts,
                at=when,
                temporary=_temporary(row.error_kind),
                retry=send_retry(row.status, row.error_kind, gone),
                opted_out=gone,
            )
        )
    return Section(total, items)


def skipped_scheduled(session: Session, limit: int) -> Section:
    where = OutboxMessage.status == OutboxStatus.SKIPPED
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(where)) or 0
    at = func.coalesce(OutboxMessage.status_at, OutboxMessage.created_at)
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.contact_id,
            OutboxMessage.channel,
            CourseEnrollment.course_id,
            OutboxMessage.course_step,
            OutboxMessage.error,
            at,
        )
        .outerjoin(CourseEnrollment, CourseEnrollment.id == OutboxMessage.enrollment_id)
        .where(where)
        .order_by(at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return Section(total, [SkippedScheduled(r[0], r[1], r[2], r[3] or "", r[4], r[5] or "", r[6]) for r in rows])


def _job(job: Job, queue: str) -> FailedJob:
    result = job.latest_result()
    failed = result is not None and result.type == Result.Type.FAILED
    exc_type, line = describe(result.exc_string if failed and result is not None else None)
    when = job.ended_at or (result.created_at if result is not None else None)
    return FailedJob(job.id, queue, job.func_name or "", when, exc_type, line, _row_of(job.id))


def failed_jobs(redis: Redis, limit: int) -> dict[str, Section]:
    """Each queue's failed registry: its size and its newest jobs (a job expires after its failure_ttl)."""
    sections: dict[str, Section] = {}
    for name in ALL_QUEUES:
        registry = FailedJobRegistry(name, connection=redis, serializer=SERIALIZER)
        total = registry.count
        ids = registry.get_job_ids(0, limit - 1, desc=True, cleanup=False) if total else []
        jobs = [j for j in Job.fetch_many(ids, connection=redis, serializer=SERIALIZER) if j is not None]
        sections[name] = Section(total, [_job(j, name) for j in jobs])
    return sections


def collect(session: Session, redis: Redis, limit: int = DEFAULT_LIMIT) -> FailedWork:
    """Everything the page shows; the database part still shows when Redis does not answer."""
    work = FailedWork(
        failed_inbound(session, limit), failed_sends(session, limit), skipped_scheduled(session, limit), {}
    )
    try:
        work.jobs = failed_jobs(redis, limit)
    except RedisError:
        work.queue_unavailable = True
    return work


# -- retrying -----------------------------------------------------------------------
@dataclass(frozen=True)
class Retried:
    """What a retry changed, for the audit log (no text, no number)."""

    contact_id: int | None
    detail: dict[str, Any]


def retry_inbound(session: Session, message_id: int) -> Retried:
    """Put a failed inbound message back to "received" (the caller commits, then queues it)."""
    row = session.execute(
        select(
            InboundMessage.status,
            InboundMessage.attempts,
            InboundMessage.error,
            InboundMessage.contact_id,
            InboundMessage.from_hash,
        ).where(InboundMessage.id == message_id)
    ).first()
    if row is None:
        raise RetryRefused(_("There is no such message."))
    if row.status != InboundStatus.FAILED:
        raise RetryRefused(_("Only a failed message can be retried; it may already be back in line."))
    changed = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.status == InboundStatus.FAILED)
        .values(status=InboundStatus.RECEIVED, attempts=0, claim_token=None, claimed_at=None, error=None)
    ).rowcount
    if changed != 1:
        raise RetryRefused(_("Only a failed message can be retried; it may already be back in line."))
    contact_id = row.contact_id or session.scalar(select(Contact.id).where(Contact.phone_hash == row.from_hash))
    return Retried(contact_id, {"inbound_id": message_id, "attempts": row.attempts, "error": row.error})


def retry_send(session: Session, outbox_id: int) -> Retried:
    """Put a failed outbox row back in line (the caller commits, then queues the person's next row).

    Only "failed" moves: to "pending" when Twilio certainly did not take the message, or to
    "sending" (its old send time kept) when the outcome is unknown, so the worker first
    looks for it in Twilio's records. The update is conditional, so two admins clicking at
    once retry it once.
    """
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise RetryRefused(_("There is no such message."))
    contact = session.get(Contact, row.contact_id) if row.contact_id else None
    if contact is None or contact.opted_out or row.error_kind == ErrorKind.OPTED_OUT:
        raise RetryRefused(_("This person opted out or erased their data: nothing more is sent to them."))
    mode = send_retry(row.status, row.error_kind, False)
    if not mode:
        raise RetryRefused(_("Only a failed message, certainly not delivered, can be sent again."))
    detail = {
        "outbox_id": row.id,
        "error_code": row.error_code,
        "error": scrub(row.error or "", 200),
        "attempts": row.attempts,
        "mode": mode,
    }
    values: dict[str, Any] = {"error": None, "error_code": None, "error_kind": None, "next_attempt_at": None,
                              "status_at": utcnow()}
    values["status"] = OutboxStatus.SENDING if mode == RETRY_RECONCILE else OutboxStatus.PENDING
    if mode == RETRY_RECONCILE and row.sending_at is None:
        values["sending_at"] = row.created_at
    changed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise RetryRefused(_("Only a failed message, certainly not delivered, can be sent again."))
    return Retried(contact.id, detail)


def forget_failed_sends(redis: Redis, outbox_id: int, attempts: int) -> int:
    """Drop a retried row's earlier send jobs from the failed registries (the retry supersedes them)."""
    removed = 0
    for name in (SEND, SCHEDULED):
        registry = FailedJobRegistry(name, connection=redis, serializer=SERIALIZER)
        for attempt in range(attempts + 1):
            job_id = send_job_id(outbox_id, attempt)
            if job_id in registry:
                try:
                    registry.remove(job_id, delete_job=True)
                except NoSuchJobError:
                    registry.remove(job_id)
                removed += 1
    return removed


def requeue_job(redis: Redis, queue: str, job_id: str) -> Job:
    """Move a job from a queue's failed registry back onto its queue."""
    if queue not in ALL_QUEUES:
        raise RetryRefused(_("There is no such queue."))
    try:
        return FailedJobRegistry(queue, connection=redis, serializer=SERIALIZER).requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError) as exc:
        raise RetryRefused(_("This job is no longer in the failed list; it may have been retried already.")) from exc
