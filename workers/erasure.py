"""Erasure on request (DELETE): everything about a person, everywhere, with a tombstone.

Messages, conversation state, consent records, cases, audit history and queued
jobs are removed. What remains is one audit event saying that an erasure
happened and how many rows it removed, with no personal data, so the erasure
itself can be shown to have happened.
"""

from __future__ import annotations

import logging

from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import delete, select

from bot.services import Services
from core.queue import SERIALIZER, inbound_job_id, send_job_id
from core.tables import AuditEvent, ConsentRecord, Contact, Escalation, InboundMessage, OutboxMessage, utcnow

log = logging.getLogger(__name__)


def _drop_jobs(services: Services, job_ids: list[str]) -> int:
    dropped = 0
    for job_id in job_ids:
        try:
            Job.fetch(job_id, connection=services.redis, serializer=SERIALIZER).delete(remove_from_queue=True)
            dropped += 1
        except NoSuchJobError:
            continue
    return dropped


def erase(services: Services, contact_id: int) -> str:
    with services.db.session() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return "already-erased"
        phone_hash = contact.phone_hash
        inbound = session.scalars(select(InboundMessage.id).where(
            (InboundMessage.contact_id == contact_id) | (InboundMessage.from_hash == phone_hash))).all()
        outbox = session.execute(select(OutboxMessage.id, OutboxMessage.attempts)
                                 .where(OutboxMessage.contact_id == contact_id)).all()
    job_ids = [inbound_job_id(i) for i in inbound]
    job_ids += [send_job_id(row_id, attempt) for row_id, attempts in outbox for attempt in range(attempts + 1)]
    jobs = _drop_jobs(services, job_ids)
    with services.db.session() as session:
        counts = {
            "outbox": session.execute(delete(OutboxMessage).where(OutboxMessage.contact_id == contact_id)).rowcount,
            "inbound": session.execute(delete(InboundMessage).where(
                (InboundMessage.contact_id == contact_id) | (InboundMessage.from_hash == phone_hash))).rowcount,
            "consents": session.execute(delete(ConsentRecord).where(ConsentRecord.contact_id == contact_id)).rowcount,
            "cases": session.execute(delete(Escalation).where(Escalation.contact_id == contact_id)).rowcount,
            "audit": session.execute(delete(AuditEvent).where(AuditEvent.contact_id == contact_id)).rowcount,
            "jobs": jobs,
        }
        session.execute(delete(Contact).where(Contact.id == contact_id))
        session.add(AuditEvent(actor="system", action="contact.erased", contact_id=None,
                               detail={"at": utcnow().isoformat(), "removed": counts}))
    log.info("erasure.done", extra={"removed": counts})
    return "erased"
