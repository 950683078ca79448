"""Sending rates per sender, shared by every worker on every machine.

Carriers and Twilio cap how fast one number may send (a long code about one
message a second, a short code a hundred). A course step for 10,000 people must
drain at that pace rather than meet a wall of 429s. Each send reserves the next
free slot for its sender in Redis with one atomic Lua script (a token bucket
kept as a "theoretical arrival time", the GCRA form), then waits for its slot.
Because every worker runs one job at a time, no worker waits longer than
(workers / rate) seconds, and the bucket never lets the sender exceed its rate.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# KEYS[1]: the bucket. ARGV: interval (ms per message), burst (messages), now (ms, or -1 to use
# the Redis clock, which all machines share), max_wait (ms).
# Returns {granted (1/0), wait_ms as a string}: a grant reserves the slot that starts after wait_ms.
_RESERVE = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - (burst - 1) * interval - now
if wait < 0 then wait = 0 end
if wait > max_wait then
  return {0, string.format('%.3f', wait)}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now + 60000))
return {1, string.format('%.3f', wait)}
"""


class RateLimited(Exception):
    """The sender's next free slot is further away than the caller is willing to wait."""

    def __init__(self, wait_s: float):
        super().__init__(f"next slot in {wait_s:.2f} s")
        self.wait_s = wait_s


@dataclass(frozen=True)
class Reservation:
    wait_s: float  # how long the caller must wait before sending


class SenderBucket:
    """One sender's rate, enforced across processes through Redis.

    ``clock`` (seconds) and ``sleep`` are injectable so tests can run the bucket on a
    fake clock; by default the Redis server's clock is used, so machines whose clocks
    drift still share one schedule.
    """

    def __init__(self, redis: Any, sender: str, rate_per_s: float, burst: int = 1,
                 clock: Callable[[], float] | None = None, sleep: Callable[[float], None] = time.sleep):
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.redis = redis
        self.key = "tumaini:rate:" + hashlib.sha256(sender.encode()).hexdigest()[:16]
        self.interval_ms = 1000.0 / rate_per_s
        self.burst = max(1, burst)
        self.clock = clock
        self.sleep = sleep
        self._script = redis.register_script(_RESERVE)

    def reserve(self, max_wait_s: float) -> Reservation:
        """Take the next slot if it starts within ``max_wait_s``; raise RateLimited otherwise."""
        now_ms = self.clock() * 1000 if self.clock is not None else -1
        granted, wait_ms = self._script(keys=[self.key],
                                        args=[self.interval_ms, self.burst, now_ms, max_wait_s * 1000])
        wait_s = float(wait_ms) / 1000
        if not int(granted):
            raise RateLimited(wait_s)
        return Reservation(wait_s)

    def acquire(self, max_wait_s: float = 30.0) -> float:
        """Wait for this sender's next slot; return how long we waited (seconds)."""
        reservation = self.reserve(max_wait_s)
        if reservation.wait_s > 0:
            self.sleep(reservation.wait_s)
        return reservation.wait_s


def sender_identity(config: Any, channel: str) -> str:
    """What the carrier counts against: our number (or Messaging Service) on this channel."""
    if channel == "whatsapp" and config.TWILIO_WHATSAPP_FROM:
        return "whatsapp:" + config.TWILIO_WHATSAPP_FROM.removeprefix("whatsapp:")
    if channel != "whatsapp" and config.TWILIO_SMS_FROM:
        return "sms:" + config.TWILIO_SMS_FROM
    return f"{channel}:service:{config.TWILIO_MESSAGING_SERVICE_SID}"


def bucket_for(services: Any, channel: str) -> SenderBucket:
    """The shared bucket for the sender of ``channel`` messages, at its configured rate."""
    config = services.config
    return SenderBucket(services.redis, sender_identity(config, channel), config.sender_rate(channel))


# A reply books its slot but never waits; it books only while the sender's backlog is
# shorter than this, so a burst of replies cannot push scheduled content back for long.
REPLY_BOOKING_HORIZON_S = 10.0


def pace(services: Any, channel: str, scheduled: bool, max_wait_s: float) -> float:
    """Pace one send; return how long it waited.

    Scheduled content waits for its sender's next slot (RateLimited if that is more
    than ``max_wait_s`` away). A reply to someone who just wrote goes at once but
    books a slot, so the content behind it slows down and the sender stays at its
    rate overall. Redis trouble must not stop replies: it is logged and the send goes.
    """
    try:
        bucket = bucket_for(services, channel)
        if scheduled:
            return bucket.acquire(max_wait_s)
        bucket.reserve(REPLY_BOOKING_HORIZON_S)
    except RateLimited:
        if scheduled:
            raise
    except RedisError as exc:
        log.warning("ratelimit.unavailable", extra={"error": type(exc).__name__})
    return 0.0
