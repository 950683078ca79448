"""Erasure on request (DELETE): the person's number and messages go, everywhere, and nothing is lost.

The confirmed DELETE is an ``erasure_requests`` row written in the same transaction as the
turn that confirmed it, so once the person has been told their data will go, the database
owes it: a queued job does it after ``ERASURE_DELAY_S`` (time for the confirmation to go
out), and if Redis loses that job the sweeper finishes every request that is due.

What goes: the contact (number, state, settings), their inbound and outbound messages,
consent records, course enrolments and queued jobs, and Twilio's own records of their
messages (the Messages API's DELETE; retried until Twilio confirms, and recorded).

What stays, without personal data:
- their cases, de-identified (no contact, no message link). An open case is closed as
  "erased at the person's request" and its owner, or the region's on-call person, is told
  by SMS, so nobody waits on a person who can no longer be reached;
- the audit trail: every event stays, unlinked from the person, its detail cut down to
  keys that name content, not people;
- the request row itself, with counts of what was removed.

Every completed erasure is also written to the erasure ledger (core.erasure_ledger), outside
the database and its backups, before it is committed: an erasure that cannot be recorded
there is not committed, and is tried again. After a restore, ``replay`` (workers.erasure_replay)
erases again everyone the ledger names who is back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.services import Services
from core.exceptions import SendError, TumainiError
from core.queue import SERIALIZER, inbound_job_id, send_job_id
from core.tables import (
    AuditEvent,
    ConsentRecord,
    Contact,
    ErasureRequest,
    Escalation,
    InboundMessage,
    OutboxMessage,
    utcnow,
)

log = logging.getLogger(__name__)

ERASED = "erased"  # a case's outcome when the person erased their data
REPLAY = "replay"  # an erasure done again from the ledger, after a restore
# Audit detail keys that describe the service (content, models, counts), never the person.
SAFE_DETAIL_KEYS = frozenset({"content", "kind", "model", "module", "course", "step", "locale", "region", "rule",
                              "source", "reason", "removed"})
TWILIO_RETRY_S = 300
BATCH = 50


class ErasureNotRecorded(TumainiError):
    """The erasure ledger could not be written, so the erasure was not committed (it is retried)."""


def request_erasure(session: Session, contact_id: int, delay_s: float) -> ErasureRequest:
    """Record a confirmed DELETE in the caller's transaction (the turn that confirmed it)."""
    existing = session.scalars(select(ErasureRequest).where(ErasureRequest.contact_id == contact_id,
                                                            ErasureRequest.done_at.is_(None))).first()
    if existing is not None:
        return existing
    row = ErasureRequest(contact_id=contact_id, due_at=utcnow() + timedelta(seconds=delay_s), provider_sids=[],
                         attempts=0, removed={})
    session.add(row)
    return row


def _drop_jobs(services: Services, job_ids: list[str]) -> int:
    dropped = 0
    for job_id in job_ids:
        try:
            Job.fetch(job_id, connection=services.redis, serializer=SERIALIZER).delete(remove_from_queue=True)
            dropped += 1
        except NoSuchJobError:
            continue
    return dropped


def _close_cases(session: Session, services: Services, contact_id: int, notify: bool) -> tuple[int, int]:
    """De-identify the person's cases; close the open ones and tell whoever answers for them
    (not again on a replay: they were told when the person erased their data)."""
    cases = session.scalars(select(Escalation).where(Escalation.contact_id == contact_id)).all()
    closed = 0
    now = utcnow()
    for case in cases:
        if case.status == "open":
            case.status, case.outcome, case.closed_at, case.closed_by = "closed", ERASED, now, None
            case.next_alert_at = None
            closed += 1
            session.add(AuditEvent(actor="system", action="case.closed_erased", contact_id=None,
                                   detail={"case": case.id, "reason": ERASED,
                                           **({} if notify else {"source": REPLAY})}))
            if notify:
                _tell_staff(session, services, case)
        case.contact_id = None
        case.inbound_id = None
    return len(cases), closed


def _tell_staff(session: Session, services: Services, case: Escalation) -> None:
    """An SMS to the case's owner, or to the region's on-call ladder: the case is closed, and why."""
    from core.oncall import alerts, rota, staff, staff_text

    numbers: list[str] = []
    locale = None
    if case.owner_id is not None:
        member = staff.by_id(session, case.owner_id)
        if member is not None and member.active and member.phone_enc is not None:
            numbers.append(services.cipher.decrypt(member.phone_enc, b"phone"))
            locale = member.locale
    if not numbers:
        rungs = rota.ladder(session, services, case.region or services.config.DEFAULT_REGION, utcnow())
        if rungs:
            numbers = [r.number for r in rungs[min(rungs)]]
    if not numbers:
        log.warning("erasure.case_nobody_to_tell", extra={"case": case.id})
        return
    text = staff_text.gettext(
        locale, "Tumaini case %(number)s is closed: the person asked for their data to be erased. "
                "Their number and messages are gone; the case record stays.") % {"number": case.id}
    text = f"{text} {staff_text.case_link(services.config.PUBLIC_BASE_URL, case.id)}"
    pending = alerts.pending_rows(session, services)
    for number in numbers:
        rows = alerts.staff_sms(session, services, number, text, alerts.NOTICE_KIND)
        pending.outbox_ids.extend(row.id for row in rows)


def _strip_audit(session: Session, contact_id: int) -> int:
    """Keep the person's audit events, unlinked, with only detail keys that name no one."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.contact_id == contact_id)).all()
    for event in events:
        event.detail = {k: v for k, v in (event.detail or {}).items() if k in SAFE_DETAIL_KEYS}
        event.contact_id = None
    return len(events)


def erase(services: Services, contact_id: int) -> str:
    """Finish the person's erasure request now (whether or not it is due); idempotent."""
    return _erase(services, contact_id, replaying=False)


def erase_again(services: Services, contact_id: int) -> str:
    """Erase a person the ledger says was erased, back after a restore.

    As ``erase``, except that nothing is sent: no staff are told again (they were, at the
    time), no queued job is touched (after a restore, job ids in Redis name other rows), and
    Twilio's copies are left to the sweeper (the request is due at once). The ledger already
    holds the erasure, so nothing is added to it.
    """
    return _erase(services, contact_id, replaying=True)


def _record(services: Services, phone_hash: str, since: datetime, counts: dict[str, int], at: datetime) -> None:
    try:
        services.erasure_ledger.append(phone_hash, since, counts, at)
    except OSError as exc:
        log.error("erasure.ledger_unwritable", extra={"path": str(services.erasure_ledger.path),
                                                       "error": type(exc).__name__})
        raise ErasureNotRecorded(f"cannot write the erasure ledger {services.erasure_ledger.path}: "
                                 f"{type(exc).__name__}") from exc


def _erase(services: Services, contact_id: int, replaying: bool) -> str:
    with services.db.session() as session:
        request = session.scalars(select(ErasureRequest).where(ErasureRequest.contact_id == contact_id,
                                                               ErasureRequest.done_at.is_(None))).first()
        contact = session.get(Contact, contact_id)
        if contact is None:
            if request is not None:
                request.done_at, request.contact_id = utcnow(), None
            return "already-erased"
        phone_hash, since = contact.phone_hash, contact.created_at
        mine = (InboundMessage.contact_id == contact_id) | (InboundMessage.from_hash == phone_hash)
        inbound = session.execute(select(InboundMessage.id, InboundMessage.message_sid).where(mine)).all()
        outbox = session.execute(select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.provider_sid)
                                 .where(OutboxMessage.contact_id == contact_id)).all()
    job_ids = [inbound_job_id(row.id) for row in inbound]
    job_ids += [send_job_id(row.id, attempt) for row in outbox for attempt in range(row.attempts + 1)]
    jobs = 0 if replaying else _drop_jobs(services, job_ids)
    sids = [row.message_sid for row in inbound if row.message_sid] + [row.provider_sid for row in outbox
                                                                      if row.provider_sid]
    with services.db.session() as session:
        cases, closed = _close_cases(session, services, contact_id, notify=not replaying)
        counts = {
            "outbox": session.execute(delete(OutboxMessage).where(OutboxMessage.contact_id == contact_id)).rowcount,
            "inbound": session.execute(delete(InboundMessage).where(
                (InboundMessage.contact_id == contact_id) | (InboundMessage.from_hash == phone_hash))).rowcount,
            "consents": session.execute(delete(ConsentRecord).where(ConsentRecord.contact_id == contact_id)).rowcount,
            "cases_kept": cases,
            "cases_closed": closed,
            "audit_kept": _strip_audit(session, contact_id),
            "jobs": jobs,
        }
        if replaying:
            counts["replayed"] = 1
        if request is None:
            request = ErasureRequest(contact_id=contact_id, due_at=utcnow(), provider_sids=[], attempts=0, removed={})
            session.add(request)
        else:
            request = session.merge(request)
        request.provider_sids = sids
        request.removed = counts
        request.done_at = utcnow()
        request.contact_id = None
        if replaying:
            request.due_at = request.done_at  # the sweeper deletes Twilio's copies once workers run
        session.flush()
        session.execute(delete(Contact).where(Contact.id == contact_id))
        session.add(AuditEvent(actor="system", action="contact.erased", contact_id=None,
                               detail={"removed": counts, "request": request.id,
                                       **({"source": REPLAY} if replaying else {})}))
        request_id = request.id
        if not replaying:
            # Written before the commit: an erasure is never done without its record.
            _record(services, phone_hash, since, counts, request.done_at)
    log.info("erasure.done", extra={"removed": counts, "request": request_id, "replay": replaying})
    if not replaying:
        delete_at_twilio(services, request_id)
    return "erased"


def delete_at_twilio(services: Services, request_id: int) -> bool:
    """Delete Twilio's records of the person's messages; what Twilio refuses now is tried again later."""
    with services.db.session() as session:
        request = session.get(ErasureRequest, request_id)
        if request is None or request.twilio_done_at is not None:
            return True
        left: list[str] = []
        deleted = 0
        for sid in list(request.provider_sids or []):
            try:
                services.channel.delete_message(sid)
                deleted += 1
            except SendError as exc:
                left.append(sid)
                log.warning("erasure.twilio_delete_failed", extra={"request": request_id, "error": str(exc)[:100]})
        request.attempts += 1
        request.provider_sids = left
        removed = dict(request.removed or {})
        removed["twilio_deleted"] = int(removed.get("twilio_deleted", 0)) + deleted
        request.removed = removed
        if not left:
            request.twilio_done_at = utcnow()
        else:
            request.due_at = utcnow() + timedelta(seconds=TWILIO_RETRY_S)
        return not left


def finish_due(services: Services, limit: int = BATCH) -> int:
    """The sweeper's part: finish every request that is due, and retry Twilio deletions; returns how many."""
    now = utcnow()
    with services.db.session() as session:
        due: list[Any] = session.execute(
            select(ErasureRequest.id, ErasureRequest.contact_id, ErasureRequest.done_at)
            .where(ErasureRequest.due_at <= now,
                   ErasureRequest.done_at.is_(None) | ErasureRequest.twilio_done_at.is_(None))
            .order_by(ErasureRequest.id).limit(limit)
        ).all()
    for row in due:
        if row.done_at is None and row.contact_id is not None:
            try:
                erase(services, row.contact_id)
            except ErasureNotRecorded:
                continue  # logged; the next sweep tries again, and the rest of this one goes on
        elif row.done_at is None:
            with services.db.session() as session:
                session.execute(update(ErasureRequest).where(ErasureRequest.id == row.id)
                                .values(done_at=utcnow()))
        else:
            delete_at_twilio(services, row.id)
    return len(due)
