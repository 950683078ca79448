"""Redis and the RQ queues.

Job ids are derived from the row they act on (``inbound-42``, ``send-7``), so a
retry, a sweep or a duplicate webhook can never create a second job for the
same message, and anyone can ask whether a row has a live job.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)

INBOUND = "inbound"
SEND = "send"
SCHEDULE = "schedule"
MODELS = "models"
# Course and check-in messages: listened to last, so replies to people who just wrote
# always go first (RQ takes jobs in the order of the queues a worker listens to).
SCHEDULED = "scheduled"
ALL_QUEUES = (INBOUND, SEND, SCHEDULE, MODELS, SCHEDULED)

_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
# Jobs carry ids only, as JSON: a pickled job planted in Redis would run code as the service.
SERIALIZER = JSONSerializer
RESULT_TTL_S = 3600
FAILURE_TTL_S = 14 * 24 * 3600


def connect(url: str) -> Redis:
    """A Redis client with short timeouts: a dead Redis must not hang a webhook."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)


def inbound_job_id(message_id: int) -> str:
    return f"inbound-{message_id}"


def send_job_id(outbox_id: int, attempt: int) -> str:
    """One id per attempt: a retry is a new job, never a rewrite of the running one."""
    return f"send-{outbox_id}-{attempt}"


class JobQueue:
    """Enqueues the service's jobs by id and answers "does this row have a live job?"."""

    def __init__(self, redis: Redis, job_timeout: int = 180):
        self.redis = redis
        self.job_timeout = job_timeout
        self.queues = {name: Queue(name, connection=redis, serializer=SERIALIZER) for name in ALL_QUEUES}

    def enqueue_inbound(self, message_id: int) -> Job:
        return self.queues[INBOUND].enqueue(
            "workers.jobs.handle_inbound",
            message_id,
            job_id=inbound_job_id(message_id),
            job_timeout=self.job_timeout,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
        )

    def enqueue_send(self, outbox_id: int, attempt: int, delay_s: float = 0, at_front: bool = False,
                     scheduled: bool = False) -> Job:
        """Queue one send attempt; ``scheduled`` content waits behind every reply."""
        queue = self.queues[SCHEDULED if scheduled else SEND]
        kwargs = dict(
            job_id=send_job_id(outbox_id, attempt),
            job_timeout=self.job_timeout,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
        )
        if delay_s > 0:
            return queue.enqueue_in(timedelta(seconds=delay_s), "workers.jobs.send_outbound", outbox_id, **kwargs)
        return queue.enqueue("workers.jobs.send_outbound", outbox_id, at_front=at_front, **kwargs)

    def enqueue_scheduled_sends(self, outbox_ids: list[int]) -> None:
        """Queue many scheduled sends in one round trip (a course step for thousands of people)."""
        queue = self.queues[SCHEDULED]
        jobs = [Queue.prepare_data("workers.jobs.send_outbound", (row_id,), job_id=send_job_id(row_id, 0),
                                   timeout=self.job_timeout, result_ttl=RESULT_TTL_S, failure_ttl=FAILURE_TTL_S)
                for row_id in outbox_ids]
        if jobs:
            queue.enqueue_many(jobs)  # one pipeline for the whole batch

    def enqueue_erasure(self, contact_id: int, delay_s: float) -> Job:
        """Erase a person's data once their confirmation has had time to go out."""
        return self.queues[SCHEDULE].enqueue_in(
            timedelta(seconds=delay_s), "workers.jobs.erase_contact", contact_id,
            job_id=f"erase-{contact_id}", job_timeout=self.job_timeout, result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
        )

    def job_is_live(self, job_id: str, stale_after_s: float) -> bool:
        """True when a job exists that will still run, or is running with a recent heartbeat."""
        try:
            job = Job.fetch(job_id, connection=self.redis, serializer=SERIALIZER)
        except NoSuchJobError:
            return False
        status = job.get_status(refresh=False)
        if status not in _LIVE:
            return False
        if status == JobStatus.STARTED:
            beat = job.last_heartbeat or job.started_at
            if beat is None:
                return False
            if beat.tzinfo is None:
                beat = beat.replace(tzinfo=UTC)
            return datetime.now(UTC) - beat < timedelta(seconds=stale_after_s)
        return True

    def enqueue_inbound_unless_live(self, message_id: int, stale_after_s: float) -> bool:
        """Queue a stored message again unless a live job already holds it; True if queued."""
        job_id = inbound_job_id(message_id)
        if self.job_is_live(job_id, stale_after_s):
            return False
        self.discard(job_id)
        self.enqueue_inbound(message_id)
        return True

    def enqueue_send_unless_live(self, outbox_id: int, attempt: int, stale_after_s: float, delay_s: float = 0,
                                 at_front: bool = False, scheduled: bool = False) -> bool:
        """Queue a send attempt unless a live job already holds it; True if queued."""
        job_id = send_job_id(outbox_id, attempt)
        if self.job_is_live(job_id, stale_after_s):
            return False
        self.discard(job_id)
        self.enqueue_send(outbox_id, attempt, delay_s=delay_s, at_front=at_front, scheduled=scheduled)
        return True

    def discard(self, job_id: str) -> None:
        """Remove a dead job (and its registry entries) before it is enqueued again."""
        try:
            Job.fetch(job_id, connection=self.redis, serializer=SERIALIZER).delete(remove_from_queue=True)
        except NoSuchJobError:
            pass

    def depth(self) -> dict[str, int]:
        return {name: q.count for name, q in self.queues.items()}
