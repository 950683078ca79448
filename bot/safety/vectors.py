"""Embeddings of curated texts, kept on disk between worker starts.

A worker embeds the crisis examples and counter-examples (bot.safety.similarity)
and every module passage in every locale (bot.intents) before it takes its first
message. On a 2-core server that is several hundred sentences and tens of
seconds, during which nothing, not even a crisis, is answered. The texts barely
change between starts, so their vectors are stored under INSTANCE_DIR and only
new or edited texts are embedded again.

Only curated, non-personal text enters this store: approved or draft content and
lexicon examples. People's messages are embedded in memory and never kept.

One file per embedding model (``<model key>.npz``: sha256 keys of the texts and
their vectors), written to a temporary file and renamed, so a worker killed
mid-write leaves the previous file whole. A file that cannot be read is
ignored and rebuilt: the store is a cache, never the record.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_SAFE_KEY = re.compile(r"[^A-Za-z0-9._-]+")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CuratedVectors:
    """A disk store of curated texts' embeddings, per embedding model.

    ``directory`` None keeps nothing on disk (every call embeds). An embedder
    without a ``cache_key`` (a test's toy embedder) is never cached either:
    vectors are stored only for a model whose key names its weights exactly.
    """

    def __init__(self, directory: Path | str | None) -> None:
        self.directory = Path(directory) if directory else None
        self._lock = threading.Lock()
        self._loaded: dict[str, dict[str, np.ndarray]] = {}

    def embed(self, embedder: Any, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (in order), embedding only those not stored yet."""
        key = getattr(embedder, "cache_key", None)
        if self.directory is None or not key or not texts:
            return np.asarray(embedder.embed(list(texts)), dtype=np.float32)
        with self._lock:
            stored = self._load(key)
            digests = [_digest(t) for t in texts]
            missing = sorted({d: t for d, t in zip(digests, texts, strict=True) if d not in stored}.items())
            if missing:
                fresh = np.asarray(embedder.embed([t for _, t in missing]), dtype=np.float32)
                for (digest, _), vector in zip(missing, fresh, strict=True):
                    stored[digest] = vector
                self._save(key, stored)
            log.debug("vectors.curated", extra={"model": key, "texts": len(texts), "embedded": len(missing)})
            return np.stack([stored[d] for d in digests]).astype(np.float32, copy=False)

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{_SAFE_KEY.sub('_', key)}.npz"

    def _load(self, key: str) -> dict[str, np.ndarray]:
        if key in self._loaded:
            return self._loaded[key]
        stored: dict[str, np.ndarray] = {}
        path = self._path(key)
        if path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
                    if len(keys) != len(vectors):
                        raise ValueError("keys and vectors differ in length")
                    stored = {str(k): v for k, v in zip(keys, vectors, strict=True)}
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                log.warning("vectors.unreadable", extra={"model": key, "error": type(exc).__name__})
                stored = {}
        self._loaded[key] = stored
        return stored

    def _save(self, key: str, stored: dict[str, np.ndarray]) -> None:
        assert self.directory is not None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Another process (a second worker) may have stored texts since this one loaded.
            self._loaded.pop(key, None)
            on_disk = self._load(key)
            stored = {**on_disk, **stored}
            self._loaded[key] = stored
            keys = np.array(sorted(stored), dtype="U64")
            vectors = np.stack([stored[k] for k in keys]).astype(np.float32)
            fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".npz", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    np.savez(handle, keys=keys, vectors=vectors)
                os.replace(tmp, self._path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A read-only or full disk costs the next start its time, never this one its answer.
            log.warning("vectors.not_saved", extra={"model": key, "error": type(exc).__name__})
