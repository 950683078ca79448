"""How much work one sender may cause: a per-minute count of their messages in Redis.

Past ``INBOUND_PER_MINUTE`` a sender's messages still pass the safety gate (a risk found
gets the full crisis path at once) and keywords still work, but nothing else is done for
them: no translation of replies, no generation, no menus. The first message over the
limit is answered once, kindly; the rest of that minute is read and not answered. One
person on WhatsApp can then neither fill the workers nor use up the shared sending rate.
The count is keyed by the sender's pseudonym, expires after two minutes, and when Redis
cannot be reached nobody is limited.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

WITHIN, FIRST_OVER, OVER = "within", "first_over", "over"


def check(services, sender_hash: str, now: float | None = None) -> str:  # type: ignore[no-untyped-def]
    """Count this message against its sender's minute; WITHIN, FIRST_OVER (answer once) or OVER."""
    limit = services.config.INBOUND_PER_MINUTE
    if limit <= 0:
        return WITHIN
    minute = int((time.time() if now is None else now) // 60)
    key = f"tumaini:inbound-rate:{sender_hash[:32]}:{minute}"
    try:
        pipe = services.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 120)
        count = int(pipe.execute()[0])
    except RedisError:
        log.warning("flood.limit_unavailable")
        return WITHIN
    if count <= limit:
        return WITHIN
    if count == limit + 1:
        log.warning("inbound.sender_over_limit", extra={"limit": limit})
        return FIRST_OVER
    return OVER
