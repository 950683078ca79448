"""A worker's heartbeat: who it is, which models it holds, and how fast they answer.

A daemon thread in ``python -m workers`` (with or without housekeeping: a worker that only
sends still holds models and should be seen). Every ``WORKER_HEARTBEAT_S`` seconds it
refreshes the worker's record in Redis (bot.telemetry) and adds the latency counts observed
since the last beat to the shared histograms. It looks every second for a change in the
loaded models and beats at once when there is one, so a translator that loads lazily on the
first message in a language shows in ``/healthz`` within a second.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from bot.dialogue.generator import GENERATION, loaded_generators
from bot.safety.similarity import loaded_embedder
from bot.telemetry import add_latency, publish_worker, record_ttl, remove_worker
from translation.latency import TRANSLATION, LatencyRecorder
from translation.pool import MB
from translation.pool import loaded_models as loaded_translators

log = logging.getLogger(__name__)

# Seconds between a job entering its queue and a worker starting it. Replies should start
# within a second or two; scheduled course messages may wait behind them for minutes.
QUEUE_WAIT = LatencyRecorder((0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0))

# Shared histogram name -> this process's recorder.
RECORDERS: dict[str, LatencyRecorder] = {
    "queue_wait": QUEUE_WAIT,
    "translation": TRANSLATION,
    "generation": GENERATION,
}


def loaded_models() -> list[dict[str, Any]]:
    """Every model this process holds now: generators, translators and the e5 embedder."""
    models = [
        {"name": g.name, "kind": "generator", "version": g.version, "quantization": g.quantization,
         "compute_type": g.compute_type, "threads": g.threads}
        for g in loaded_generators()
    ]
    models += [
        {"name": t.name, "kind": "translator", "version": t.version, "quantization": t.quantization,
         "compute_type": t.compute_type, "threads": t.threads}
        for t in loaded_translators()
    ]
    embedder = loaded_embedder()
    if embedder is not None:
        models.append({"name": embedder.name, "kind": "embedder", "version": embedder.version,
                       "quantization": embedder.quantization, "compute_type": embedder.quantization,
                       "threads": embedder.threads})
    return models


def rss_mb() -> float | None:
    """Resident memory of this process in MB (None where there is no /proc, i.e. not Linux)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
    except FileNotFoundError:
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / MB, 1)


def ship_latency(redis: Redis) -> None:
    """Add what every recorder observed since the last call to the shared histograms."""
    for metric, recorder in RECORDERS.items():
        drained = recorder.drain()
        try:
            add_latency(redis, metric, recorder.bounds(), drained)
        except (RedisError, OSError):
            recorder.restore(drained)  # the next beat carries them
            raise


def _signature(models: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((m["name"], m["kind"], m["version"]) for m in models)


class Heartbeat(threading.Thread):
    """Publishes this worker's record and latency counts until ``stop()``."""

    def __init__(self, redis: Redis, worker_name: str, queues: Sequence[str], interval_s: int):
        super().__init__(name="heartbeat", daemon=True)
        self.redis = redis
        self.worker_name = worker_name
        self.queues = list(queues)
        self.interval_s = interval_s
        self.ttl_s = record_ttl(interval_s)
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.stopping = threading.Event()
        self._published: list[tuple[str, str, str]] | None = None

    def record(self) -> dict[str, Any]:
        """This worker as ``/healthz`` lists it: machine facts and model names, nothing personal."""
        return {
            "name": self.worker_name,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": self.queues,
            "started_at": self.started_at,
            "heartbeat_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rss_mb": rss_mb(),
            "models": loaded_models(),
        }

    def beat(self) -> None:
        """Publish the record and ship the latency counts now."""
        record = self.record()
        publish_worker(self.redis, record, self.ttl_s)
        self._published = _signature(record["models"])
        ship_latency(self.redis)

    def run(self) -> None:
        last = -float(self.interval_s)
        while True:
            now = time.monotonic()
            if now - last >= self.interval_s or _signature(loaded_models()) != self._published:
                try:
                    self.beat()
                    last = now
                except (RedisError, OSError) as exc:
                    # Keep going: the record expires meanwhile and comes back with Redis.
                    log.warning("heartbeat.unavailable", extra={"error": type(exc).__name__})
            if self.stopping.wait(1.0):
                return

    def stop(self) -> None:
        """Stop beating, ship the last latency counts and take the record down."""
        self.stopping.set()
        self.join(timeout=5)
        try:
            ship_latency(self.redis)
            remove_worker(self.redis, self.worker_name)
        except (RedisError, OSError) as exc:
            log.warning("heartbeat.unregister_failed", extra={"error": type(exc).__name__})
