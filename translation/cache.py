"""A Redis cache of translations of approved content and bot text, never of people's messages.

The same course message goes to hundreds of people in the same language; translating it
once per model version saves the CPU for the conversations that need it. People's own
messages are private and rarely repeat, so they are never written to the cache: the caller
must pass ``cacheable=True`` to opt in, and the default is False.

Key: ``<prefix><model version>:<src>:<tgt>:<sha256 of the text>``. The model version comes
from the manifest checksums (plus the protection applied), so a new model or glossary never
serves stale text. Only accepted translations (``ok``) are stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from redis.exceptions import RedisError

from translation.base import Translation, Translator

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30 * 24 * 3600


class TranslationCache:
    """Get and put translations in Redis; the client is passed in by the caller."""

    def __init__(self, redis: Any, *, prefix: str = "tumaini:mt:", ttl_s: int = DEFAULT_TTL_S):
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.hits = 0
        self.misses = 0

    def key(self, version: str, src: str, tgt: str, text: str) -> str:
        """The cache key; the text appears only as its sha256."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return f"{self.prefix}{version}:{src}:{tgt}:{digest}"

    def get_many(self, keys: list[str]) -> list[Translation | None]:
        """Cached translations for the keys, None where absent."""
        if not keys:
            return []
        raw = self.redis.mget(keys)
        found: list[Translation | None] = []
        for value in raw:
            if value is None:
                found.append(None)
                continue
            data = json.loads(value)
            found.append(Translation(data["text"], float(data["confidence"]), True))
        hits = sum(1 for f in found if f is not None)
        self.hits += hits
        self.misses += len(found) - hits
        return found

    def put_many(self, items: list[tuple[str, Translation]]) -> None:
        """Store accepted translations with the cache's time to live."""
        pipe = self.redis.pipeline(transaction=False)
        for key, translation in items:
            if translation.ok:
                value = json.dumps({"text": translation.text, "confidence": translation.confidence})
                pipe.set(key, value, ex=self.ttl_s)
        pipe.execute()


class CachedTranslator(Translator):
    """Decorator: answers cacheable requests from Redis, translating only the misses.

    Redis trouble slows translation down but does not stop it: the error is logged and the
    texts are translated as if nothing were cached.
    """

    def __init__(self, inner: Translator, cache: TranslationCache, *, threshold: float | None = None):
        self.inner = inner
        self.cache = cache
        # A raised confidence threshold must apply to entries cached under the old one.
        self.threshold = threshold

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Cached results for hits, one inner batch for the misses."""
        if not cacheable or not texts:
            return self.inner.translate_batch(texts, src, tgt, cacheable=cacheable)
        version = self.inner.version(src, tgt)
        keys = [self.cache.key(version, src, tgt, text) for text in texts]
        try:
            cached = self.cache.get_many(keys)
        except RedisError as exc:
            log.warning("translation cache unavailable", extra={"error": type(exc).__name__})
            return self.inner.translate_batch(texts, src, tgt, cacheable=cacheable)
        if self.threshold is not None:
            cached = [c if c is None or c.confidence >= self.threshold else None for c in cached]
        missing = [i for i, c in enumerate(cached) if c is None]
        results: list[Translation | None] = list(cached)
        if missing:
            fresh = self.inner.translate_batch([texts[i] for i in missing], src, tgt, cacheable=True)
            for i, translation in zip(missing, fresh, strict=True):
                results[i] = translation
            try:
                self.cache.put_many([(keys[i], t) for i, t in zip(missing, fresh, strict=True)])
            except RedisError as exc:
                log.warning("translation cache write failed", extra={"error": type(exc).__name__})
        return [r for r in results if r is not None]

    def supports(self, src: str, tgt: str) -> bool:
        """Same pairs as the inner translator."""
        return self.inner.supports(src, tgt)

    def version(self, src: str, tgt: str) -> str:
        """The inner version."""
        return self.inner.version(src, tgt)

    def route(self, src: str, tgt: str) -> list[str]:
        """The inner route."""
        return self.inner.route(src, tgt)
