"""Latency histograms kept in process memory until someone ships them elsewhere.

Translation and generation run in worker processes, while Prometheus scrapes the web
processes. Timing a model call must not cost a network round trip, so each call only bumps
a counter here; the worker's heartbeat drains the counts into Redis every few seconds, and
``/metrics`` reads them back. Nothing here knows about Redis or Prometheus, and nothing is
recorded about the text itself: a label (a model or queue name) and a duration.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

# Upper bounds in seconds. Model calls on a 2-core CPU take from tens of milliseconds (a
# short SMS through a pair model) to a few seconds (a long reply, or a cold NLLB model).
MODEL_BUCKETS_S: tuple[float, ...] = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


@dataclass
class Counts:
    """Observations of one label since the last drain: one count per bucket, plus +Inf."""

    buckets: list[int]
    total_s: float = 0.0
    count: int = 0


class LatencyRecorder:
    """Thread-safe bucket counts per label, drained (and reset) by whoever ships them."""

    def __init__(self, buckets: Sequence[float] = MODEL_BUCKETS_S):
        if list(buckets) != sorted(set(buckets)) or not all(math.isfinite(b) for b in buckets):
            raise ValueError("latency buckets must be finite and strictly increasing")
        self.buckets = tuple(float(b) for b in buckets)
        self._pending: dict[str, Counts] = {}
        self._lock = threading.Lock()

    def observe(self, label: str, seconds: float) -> None:
        """Count one call that took ``seconds`` under ``label`` (a model or queue name)."""
        seconds = max(0.0, seconds)
        index = bisect_left(self.buckets, seconds)  # first bound >= seconds; len() is +Inf
        with self._lock:
            counts = self._pending.get(label)
            if counts is None:
                counts = self._pending[label] = Counts([0] * (len(self.buckets) + 1))
            counts.buckets[index] += 1
            counts.total_s += seconds
            counts.count += 1

    def drain(self) -> dict[str, Counts]:
        """Everything observed since the last drain; the recorder starts again from zero."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending

    def restore(self, drained: dict[str, Counts]) -> None:
        """Put back counts that could not be shipped, so the next drain carries them."""
        with self._lock:
            for label, counts in drained.items():
                mine = self._pending.get(label)
                if mine is None:
                    self._pending[label] = counts
                    continue
                mine.buckets = [a + b for a, b in zip(mine.buckets, counts.buckets, strict=True)]
                mine.total_s += counts.total_s
                mine.count += counts.count

    def bounds(self) -> Sequence[str]:
        """Bucket names as Prometheus writes them ("0.1", ..., "+Inf"), in bucket order."""
        return [*(repr(float(b)) for b in self.buckets), "+Inf"]


# Time spent in CTranslate2 per batch, by model name (tokenizing and assembly excluded).
TRANSLATION = LatencyRecorder()
