"""Lazily loaded CTranslate2 models under a memory budget, least recently used unloaded first.

A 2-core server with a few GB of RAM cannot keep every pair model and an NLLB model
resident next to the dialogue model. Models load on first use (never at import, so a web
process that never translates never pays for them), and when loading one would exceed the
budget the least recently used are dropped first.

Models are never shared across a fork: CTranslate2's thread pools do not survive one. If the
pool notices it now lives in a different process than the one that loaded a model, it
forgets every model and loads again.

``loaded_models()`` says what every pool in this process holds right now, so a worker can
tell ``/healthz`` which translators it has loaded as they come and go.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from translation.errors import ModelLoadError

if TYPE_CHECKING:
    from translation.catalog import ModelInfo

log = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True)
class LoadOptions:
    """How CTranslate2 runs a model: int8 on CPU, with explicit thread counts.

    ``intra_threads`` are the threads one batch uses; ``inter_threads`` is how many batches
    can run at once. On a 2-core server shared with the dialogue model, 1 x 1 per worker
    process is the measured default (see docs/translation.md).
    """

    device: str = "cpu"
    compute_type: str = "int8"
    inter_threads: int = 1
    intra_threads: int = 1


Loader = Callable[[Path, LoadOptions], Any]


def load_ctranslate2(path: Path, options: LoadOptions) -> Any:
    """Default loader: a ctranslate2.Translator for a converted model directory."""
    import ctranslate2

    try:
        return ctranslate2.Translator(
            str(path),
            device=options.device,
            compute_type=options.compute_type,
            inter_threads=options.inter_threads,
            intra_threads=options.intra_threads,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(f"cannot load model in {path}: {exc}") from exc


@dataclass(frozen=True)
class LoadedModel:
    """One model resident in a pool: what a worker reports about it (no paths, no text)."""

    name: str
    version: str
    quantization: str | None
    compute_type: str
    threads: int


@dataclass
class _Entry:
    model: Any
    size_bytes: int
    loaded_at: float
    info: ModelInfo | None = None


_POOLS: weakref.WeakSet[ModelPool] = weakref.WeakSet()


class ModelPool:
    """Loads models on demand and keeps the ones that fit in ``budget_mb``."""

    def __init__(
        self,
        budget_mb: float,
        options: LoadOptions | None = None,
        loader: Loader = load_ctranslate2,
    ):
        self.budget_bytes = int(max(0.0, budget_mb) * MB)
        self.options = options or LoadOptions()
        self._loader = loader
        self._entries: OrderedDict[Path, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.loads = 0
        self.unloads = 0
        _POOLS.add(self)

    def get(self, path: Path, size_bytes: int, info: ModelInfo | None = None) -> Any:
        """The loaded model for ``path``, loading it (and unloading others) when needed.

        ``info`` (the model's manifest facts) names the model in ``resident()``.
        """
        key = Path(path)
        with self._lock:
            self._forget_after_fork()
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry.model
            self._make_room(size_bytes)
            started = time.perf_counter()
            model = self._loader(key, self.options)
            self._entries[key] = _Entry(model, size_bytes, time.time(), info)
            self.loads += 1
            log.info(
                "translation model loaded",
                extra={
                    "model_dir": str(key),
                    "seconds": round(time.perf_counter() - started, 2),
                    "size_mb": round(size_bytes / MB),
                },
            )
            return model

    def _make_room(self, size_bytes: int) -> None:
        used = sum(e.size_bytes for e in self._entries.values())
        while self._entries and used + size_bytes > self.budget_bytes:
            old_key, old = self._entries.popitem(last=False)
            used -= old.size_bytes
            self._release(old)
            self.unloads += 1
            log.info("translation model unloaded for memory", extra={"model_dir": str(old_key)})
        if size_bytes > self.budget_bytes:
            log.warning(
                "model larger than translation memory budget; loading it alone",
                extra={"size_mb": round(size_bytes / MB), "budget_mb": self.budget_bytes // MB},
            )

    @staticmethod
    def _release(entry: _Entry) -> None:
        # Dropping the pool's reference frees the weights as soon as no thread is still
        # translating with them. unload_model() would free them sooner, but a thread that
        # fetched the model just before would then fail mid-call.
        entry.model = None

    def _forget_after_fork(self) -> None:
        pid = os.getpid()
        if pid != self._pid:
            self._entries.clear()
            self._pid = pid

    def loaded(self) -> list[Path]:
        """Paths of models currently loaded, least recently used first."""
        with self._lock:
            return list(self._entries)

    def resident(self) -> list[LoadedModel]:
        """The models loaded in this process, least recently used first."""
        with self._lock:
            if os.getpid() != self._pid:
                return []  # a forked child: these belong to the parent
            entries = list(self._entries.items())
        return [
            LoadedModel(
                name=entry.info.name if entry.info else path.name,
                version=entry.info.version if entry.info else "",
                quantization=entry.info.quantization if entry.info else None,
                compute_type=self.options.compute_type,
                threads=self.options.intra_threads,
            )
            for path, entry in entries
        ]

    @property
    def used_bytes(self) -> int:
        """Estimated bytes held by the loaded models."""
        with self._lock:
            return sum(e.size_bytes for e in self._entries.values())

    def clear(self) -> None:
        """Unload everything (on shutdown, or before a process forks)."""
        with self._lock:
            for entry in self._entries.values():
                self._release(entry)
            self._entries.clear()


def loaded_models() -> list[LoadedModel]:
    """Every translation model loaded by any pool in this process."""
    return [model for pool in list(_POOLS) for model in pool.resident()]
