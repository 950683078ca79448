"""Burst batching: messages that arrive together are translated in one model call.

Messages come in bursts (a course message goes out, replies arrive within seconds). One
CTranslate2 call for 16 sentences costs little more than for one, so a worker that serves
several jobs at once (threads) gains a lot by sending them through together.

The design is "leader collects while the model is busy": the first caller for a language
pair opens a batch; if the model is idle it runs at once (no added latency when traffic is
light), otherwise it waits until the running batch finishes, the batch is full
(``max_batch``), or ``max_wait_s`` has passed, whichever comes first. Later callers join the
open batch and wait for its result. No background thread: callers do the work.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from translation.base import Translation, Translator


@dataclass
class _Batch:
    key: tuple[str, str, bool]
    texts: list[str] = field(default_factory=list)
    closed: bool = False
    results: list[Translation] | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class BatchStats:
    """What the batching did, for metrics and the benchmark."""

    batches: int = 0
    items: int = 0
    largest: int = 0
    max_wait_s: float = 0.0


class BatchingTranslator(Translator):
    """Thread-safe decorator that merges concurrent ``translate`` calls into batches."""

    def __init__(
        self,
        inner: Translator,
        *,
        max_batch: int = 16,
        max_wait_s: float = 0.5,
        max_concurrent: int = 1,
    ):
        if max_batch < 1 or max_wait_s < 0 or max_concurrent < 1:
            raise ValueError("max_batch and max_concurrent must be >= 1, max_wait_s >= 0")
        self.inner = inner
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.max_concurrent = max_concurrent
        self.stats = BatchStats()
        self._cond = threading.Condition()
        self._open: dict[tuple[str, str, bool], _Batch] = {}
        self._running = 0

    def translate(self, text: str, src: str, tgt: str, *, cacheable: bool = False) -> Translation:
        """Translate one text, batched with whatever arrives for the same pair meanwhile."""
        key = (src, tgt, cacheable)
        arrived = time.monotonic()
        with self._cond:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = _Batch(key)
                self._open[key] = batch
            index = len(batch.texts)
            batch.texts.append(text)
            if len(batch.texts) >= self.max_batch:
                self._close(batch)
                self._cond.notify_all()
        if leader:
            self._lead(batch, arrived)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        assert batch.results is not None
        return batch.results[index]

    def _close(self, batch: _Batch) -> None:
        batch.closed = True
        if self._open.get(batch.key) is batch:
            del self._open[batch.key]

    def _lead(self, batch: _Batch, arrived: float) -> None:
        deadline = arrived + self.max_wait_s
        with self._cond:
            while not batch.closed and self._running >= self.max_concurrent:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._close(batch)
            self._running += 1
            waited = time.monotonic() - arrived
            self.stats.batches += 1
            self.stats.items += len(batch.texts)
            self.stats.largest = max(self.stats.largest, len(batch.texts))
            self.stats.max_wait_s = max(self.stats.max_wait_s, waited)
        src, tgt, cacheable = batch.key
        try:
            batch.results = self.inner.translate_batch(batch.texts, src, tgt, cacheable=cacheable)
        except BaseException as exc:
            # Every caller in the batch receives the error; the leader re-raises it too.
            batch.error = exc
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()
            batch.done.set()

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """A caller that already has a batch goes straight to the inner translator."""
        return self.inner.translate_batch(texts, src, tgt, cacheable=cacheable)

    def supports(self, src: str, tgt: str) -> bool:
        """Same pairs as the inner translator."""
        return self.inner.supports(src, tgt)

    def version(self, src: str, tgt: str) -> str:
        """The inner version."""
        return self.inner.version(src, tgt)

    def route(self, src: str, tgt: str) -> list[str]:
        """The inner route."""
        return self.inner.route(src, tgt)
