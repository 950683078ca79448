"""The worker process: ``python -m workers``.

One long-lived process that holds the models and runs jobs itself (RQ's
SimpleWorker: no fork, so CTranslate2 stays safe), with a housekeeping thread
that moves scheduled jobs onto their queues and sweeps for stranded work, and a
heartbeat thread that tells /healthz and /metrics what this worker holds.
Run as many as the machine allows; they coordinate through Redis.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from datetime import UTC, datetime

from redis.exceptions import RedisError
from rq.job import Job
from rq.scheduler import RQScheduler
from sqlalchemy.exc import SQLAlchemyError

from bot import logs
from bot.dialogue.errors import DialogueUnavailable
from bot.services import Services
from core.config import Config
from core.oncall import escalate_due
from core.queue import INBOUND, MODELS, SCHEDULE, SCHEDULED, SEND, SERIALIZER
from workers import language, runtime
from workers.guard import GuardedWorker
from workers.heartbeat import QUEUE_WAIT, Heartbeat
from workers.scheduling import tick
from workers.sweeper import sweep

log = logging.getLogger("workers")


class ModelWorker(GuardedWorker):
    """RQ's SimpleWorker (no fork), running only our jobs (``workers.guard``), that also times
    how long each job waited in its queue."""

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        super().prepare_job_execution(job, remove_from_intermediate_queue)
        if job.enqueued_at is not None:
            enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
            QUEUE_WAIT.observe(job.origin, (datetime.now(UTC) - enqueued).total_seconds())


class Housekeeping(threading.Thread):
    """Scheduler duties (no fork), the course tick and the sweeper, on one daemon thread."""

    def __init__(self, services: Services, queues: list[str]):
        super().__init__(name="housekeeping", daemon=True)
        self.services = services
        self.queues = queues
        self.stopping = threading.Event()

    def run(self) -> None:
        scheduler = RQScheduler(self.queues, connection=self.services.redis, serializer=SERIALIZER)
        last_lock = last_sweep = last_tick = 0.0
        interval = self.services.config.SWEEP_INTERVAL_S
        tick_every = self.services.config.SCHEDULE_TICK_S
        while not self.stopping.wait(1.0):
            now = time.monotonic()
            try:
                if now - last_lock > 10:
                    scheduler.acquire_locks()
                    last_lock = now
                scheduler.enqueue_scheduled_jobs()
                scheduler.heartbeat()
                if self.services.redis.set("tumaini:retention-lock", "1", nx=True, ex=24 * 3600):
                    self.services.jobs.queues[SCHEDULE].enqueue("workers.jobs.purge_expired_messages",
                                                                job_timeout=3600)
                if now - last_tick > tick_every:
                    last_tick = now
                    # Safe on every worker at once (exactly once is in the database); the lock
                    # only saves duplicated effort.
                    if self.services.redis.set("tumaini:schedule-lock", "1", nx=True, ex=max(1, tick_every - 1)):
                        tick(self.services)
                        # Unacknowledged cases whose time ran out: the next rung is alerted, once.
                        escalate_due(self.services)
                if now - last_sweep > interval:
                    last_sweep = now
                    if self.services.redis.set("tumaini:sweep-lock", "1", nx=True, ex=max(1, interval - 1)):
                        sweep(self.services)
            except (RedisError, SQLAlchemyError, OSError) as exc:
                # Keep going: the next pass retries once Redis or the database is back.
                log.warning("housekeeping.unavailable", extra={"error": type(exc).__name__})
        scheduler.release_locks()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    # Replies already composed go out before new messages are read; scheduled content goes last.
    parser.add_argument("--queues", default=f"{SEND},{INBOUND},{MODELS},{SCHEDULE},{SCHEDULED}")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--no-housekeeping", action="store_true")
    args = parser.parse_args(argv)

    config = Config.from_env()
    logs.configure(config.LOG_LEVEL)
    services = Services(config)
    ctx = runtime.install(services)
    # Load content, the safety gate and models before the first message, in this process
    # (never before a fork: this worker does not fork).
    ctx.engine()
    ctx.safety_gate()
    language.warm()
    if config.DIALOGUE_ENABLED:
        try:
            services.dialogue.warm_up()
        except DialogueUnavailable as exc:
            # The service stays fully useful without generation: free text gets approved fallbacks.
            log.warning("worker.dialogue_unavailable", extra={"reason": str(exc)[:200]})
    queues = [q for q in args.queues.split(",") if q]
    worker = ModelWorker(queues, connection=services.redis, serializer=SERIALIZER)
    heartbeat = Heartbeat(services.redis, worker.name, queues, config.WORKER_HEARTBEAT_S)
    heartbeat.start()
    housekeeping = None
    if not args.no_housekeeping:
        housekeeping = Housekeeping(services, queues)
        housekeeping.start()
    log.info("worker.started", extra={"queues": queues})
    try:
        worker.work(burst=args.burst, with_scheduler=False, logging_level=config.LOG_LEVEL)
    finally:
        if housekeeping is not None:
            housekeeping.stopping.set()
            housekeeping.join(timeout=5)
        heartbeat.stop()
        services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
