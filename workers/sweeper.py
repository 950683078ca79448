"""Re-queue stored work that has no live job.

Redis can restart empty and workers can be killed; the database is the record
of what is owed. Every pass finds inbound messages not yet answered and outbox
rows not yet sent whose job is gone or dead, and queues them again. Job ids are
derived from rows, so sweeping twice, or from two machines, is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bot.services import Services
from core.oncall.alerts import enqueue_webhook, webhook_job_id
from core.outbox import queue_next_for, queue_staff_row
from core.tables import CaseAlert, InboundMessage, InboundStatus, OutboxMessage, OutboxStatus, utcnow
from workers import erasure

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    inbound_requeued: int
    outbox_requeued: int


def sweep(services: Services, grace_s: float | None = None) -> SweepReport:
    config = services.config
    grace = config.SWEEP_GRACE_S if grace_s is None else grace_s
    cutoff = utcnow() - timedelta(seconds=grace)
    lease = config.PROCESSING_LEASE_S
    with services.db.session() as session:
        inbound_ids = session.scalars(
            select(InboundMessage.id)
            .where(InboundMessage.status.in_(InboundStatus.PENDING), InboundMessage.received_at < cutoff)
            .order_by(InboundMessage.id)
            .limit(BATCH)
        ).all()
        contact_ids = session.scalars(
            select(OutboxMessage.contact_id)
            .distinct()
            .where(OutboxMessage.status.in_(OutboxStatus.OPEN), OutboxMessage.created_at < cutoff,
                   OutboxMessage.contact_id.is_not(None))
            .limit(BATCH)
        ).all()
        staff_rows = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status.in_(OutboxStatus.OPEN), OutboxMessage.created_at < cutoff,
                   OutboxMessage.contact_id.is_(None), OutboxMessage.to_enc.is_not(None))
            .limit(BATCH)
        ).all()
        webhooks = session.execute(
            select(CaseAlert.id, CaseAlert.attempts)
            .where(CaseAlert.channel == "webhook", CaseAlert.status == "pending", CaseAlert.created_at < cutoff)
            .limit(BATCH)
        ).all()
    inbound_requeued = 0
    for message_id in inbound_ids:
        inbound_requeued += services.jobs.enqueue_inbound_unless_live(message_id, lease)
    outbox_requeued = sum(1 for cid in contact_ids if queue_next_for(services, cid, lease) is not None)
    outbox_requeued += sum(1 for row_id in staff_rows if queue_staff_row(services, row_id, lease))
    for alert_id, attempts in webhooks:
        job_id = webhook_job_id(alert_id, attempts)
        if not services.jobs.job_is_live(job_id, lease):
            services.jobs.discard(job_id)
            enqueue_webhook(services, alert_id, attempts)
            outbox_requeued += 1
    if inbound_requeued or outbox_requeued:
        log.info("sweep.requeued", extra={"inbound": inbound_requeued, "outbox": outbox_requeued})
    # Recorded erasures whose job was lost, and Twilio deletions still to retry.
    erasure.finish_due(services)
    return SweepReport(inbound_requeued, outbox_requeued)
