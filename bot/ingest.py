"""Store an inbound message, then queue its processing.

Shared by the Twilio webhook and the simulator, so a demo message takes the
same path as a real one. The row is committed before anything else happens: a
message we acknowledge is on disk, and a duplicate MessageSid (Twilio retries,
even concurrent ones) finds the unique constraint and stops there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from bot.channels.base import InboundForm
from bot.services import Services
from core.tables import InboundMessage, InboundStatus, utcnow

log = logging.getLogger(__name__)


# Built once: a Core insert is one round trip with no ORM bookkeeping, on our hottest path.
_INSERT = insert(InboundMessage).returning(InboundMessage.id)


@dataclass(frozen=True)
class IngestResult:
    message_id: int | None
    duplicate: bool
    queued: bool


def ingest(services: Services, form: InboundForm) -> IngestResult:
    cipher = services.cipher
    values = dict(
        message_sid=form.message_sid,
        channel=form.channel,
        from_hash=services.pseudonymise(form.from_number),
        from_enc=cipher.encrypt(form.from_number, b"phone"),
        to_address=form.to_address,
        body_enc=cipher.encrypt(form.body, b"body"),
        num_media=form.num_media,
        status=InboundStatus.RECEIVED,
        attempts=0,
        received_at=utcnow(),
    )
    try:
        with services.db.engine.begin() as conn:
            message_id = conn.execute(_INSERT, values).scalar_one()
    except IntegrityError:
        log.info("inbound.duplicate", extra={"channel": form.channel})
        return IngestResult(message_id=None, duplicate=True, queued=False)
    try:
        services.jobs.enqueue_inbound(message_id)
        queued = True
    except RedisError:
        # Stored, so acknowledged safely: the sweeper queues it when Redis is back.
        log.warning("inbound.enqueue_failed", extra={"message_id": message_id})
        queued = False
    log.info("inbound.stored", extra={"message_id": message_id, "channel": form.channel, "queued": queued})
    return IngestResult(message_id=message_id, duplicate=False, queued=queued)
