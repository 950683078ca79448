"""What workers tell the web processes through Redis: who is alive, what it holds, how fast it is.

Workers may run on other machines than the web processes that answer ``/healthz`` and
``/metrics``, so nothing here lives in a process's memory:

- Each worker keeps a small JSON record under ``tumaini:worker:<name>`` (hostname, pid,
  queues, start time, resident memory, loaded models), with a TTL a little over its heartbeat
  interval. A worker that stops cleanly deletes it; one that is killed drops out when it
  expires. ``tumaini:workers`` indexes the names by expiry, so reading the records never
  scans the keyspace.
- Latency histograms are Redis hashes, ``tumaini:latency:<metric>``, with a field per
  ``label|bucket`` plus ``label|sum`` and ``label|count``. Workers add what they observed
  since their last heartbeat; the counts only grow, like a Prometheus counter.

Records hold no personal data: machine facts and model names only.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from translation.latency import Counts

RECORD_PREFIX = "tumaini:worker:"
INDEX_KEY = "tumaini:workers"
LATENCY_PREFIX = "tumaini:latency:"
_FORGET_AFTER_S = 3600  # index entries this long expired are pruned by the next heartbeat


def record_ttl(heartbeat_s: int) -> int:
    """Seconds a record outlives its last heartbeat: a slow pass must not make a worker blink."""
    return heartbeat_s + max(5, heartbeat_s // 2)


def publish_worker(redis: Redis, record: dict[str, Any], ttl_s: int) -> None:
    """Write (or refresh) one worker's record; ``record["name"]`` is its RQ worker name."""
    name = record["name"]
    now = time.time()
    with redis.pipeline() as pipe:
        pipe.set(RECORD_PREFIX + name, json.dumps(record, sort_keys=True), ex=ttl_s)
        pipe.zadd(INDEX_KEY, {name: now + ttl_s})
        pipe.zremrangebyscore(INDEX_KEY, "-inf", now - _FORGET_AFTER_S)
        pipe.execute()


def remove_worker(redis: Redis, name: str) -> None:
    """Forget a worker at once (a clean shutdown), rather than when its record expires."""
    with redis.pipeline() as pipe:
        pipe.delete(RECORD_PREFIX + name)
        pipe.zrem(INDEX_KEY, name)
        pipe.execute()


def worker_records(redis: Redis) -> list[dict[str, Any]]:
    """Records of every worker with a live heartbeat, by hostname then pid."""
    names = [n.decode() if isinstance(n, bytes) else n
             for n in redis.zrangebyscore(INDEX_KEY, time.time(), "+inf")]
    if not names:
        return []
    records = [json.loads(raw) for raw in redis.mget([RECORD_PREFIX + n for n in names]) if raw is not None]
    return sorted(records, key=lambda r: (r.get("hostname", ""), r.get("pid", 0)))


def models_loaded(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which model (name, kind, version) is loaded in which workers: the summary ``/healthz`` shows."""
    where: dict[tuple[str, str, str], list[str]] = {}
    for record in records:
        for model in record.get("models", []):
            key = (model["name"], model["kind"], model.get("version", ""))
            where.setdefault(key, []).append(f"{record['hostname']}:{record['pid']}")
    return [{"name": name, "kind": kind, "version": version, "workers": sorted(workers)}
            for (name, kind, version), workers in sorted(where.items())]


def add_latency(redis: Redis, metric: str, bounds: Iterable[str], drained: dict[str, Counts]) -> None:
    """Add one worker's drained counts to the shared histogram ``metric``, in one round trip."""
    if not drained:
        return
    bounds = list(bounds)
    key = LATENCY_PREFIX + metric
    with redis.pipeline() as pipe:
        for label, counts in drained.items():
            for bound, n in zip(bounds, counts.buckets, strict=True):
                pipe.hincrby(key, f"{label}|{bound}", n)  # empty buckets too: Prometheus wants every bound
            pipe.hincrbyfloat(key, f"{label}|sum", counts.total_s)
            pipe.hincrby(key, f"{label}|count", counts.count)
        pipe.execute()


@dataclass(frozen=True)
class Histogram:
    """One label's shared histogram: cumulative (bound, count) pairs ending with +Inf."""

    buckets: list[tuple[str, int]]
    sum_s: float
    count: int


def latency(redis: Redis, metric: str) -> dict[str, Histogram]:
    """The shared histogram ``metric`` per label, cumulated the way Prometheus expects."""
    per_label: dict[str, dict[str, str]] = {}
    for field, value in redis.hgetall(LATENCY_PREFIX + metric).items():
        label, _, part = (field.decode() if isinstance(field, bytes) else field).rpartition("|")
        per_label.setdefault(label, {})[part] = value.decode() if isinstance(value, bytes) else value
    histograms = {}
    for label, parts in per_label.items():
        count = int(parts.pop("count", 0))
        sum_s = float(parts.pop("sum", 0.0))
        running, buckets = 0, []
        for bound in sorted(parts, key=lambda b: math.inf if b == "+Inf" else float(b)):
            running += int(parts[bound])
            buckets.append((bound, running))
        if not buckets or buckets[-1][0] != "+Inf":
            buckets.append(("+Inf", count))
        histograms[label] = Histogram(buckets, sum_s, count)
    return histograms
