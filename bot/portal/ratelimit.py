"""Counting failed logins in Redis, per account and address, to slow down password guessing.

Keys hold a keyed hash of "email|address", never the email or the address itself, and
expire with the window, so nothing personal accumulates in Redis. When Redis cannot be
reached the limiter lets logins through and logs it: staff must still reach people in
crisis during an outage, and password hashes are slow to guess anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "portal:login-failures:"


class LoginLimiter:
    """At most ``max_failures`` failed logins per ``window_s`` for one account from one address."""

    def __init__(
        self, redis: Callable[[], Any], pseudonymise: Callable[[str], str], max_failures: int = 5, window_s: int = 900
    ) -> None:
        self._redis = redis
        self._pseudonymise = pseudonymise
        self.max_failures = max_failures
        self.window_s = window_s

    def _key(self, email: str, address: str) -> str:
        return PREFIX + self._pseudonymise(f"{email.strip().lower()}|{address}")[:40]

    def blocked_for(self, email: str, address: str) -> int:
        """Seconds until this account may try again from this address (0: it may try now)."""
        key = self._key(email, address)
        try:
            client = self._redis()
            failures = int(client.get(key) or 0)
            if failures < self.max_failures:
                return 0
            ttl = int(client.ttl(key))
        except RedisError:
            log.warning("portal.login_limit_unavailable")
            return 0
        return max(ttl, 1)

    def failed(self, email: str, address: str) -> int:
        """Count one failure; returns the failures in the current window."""
        key = self._key(email, address)
        try:
            client = self._redis()
            pipe = client.pipeline()
            pipe.set(key, 0, ex=self.window_s, nx=True)  # the window starts at the first failure
            pipe.incr(key)
            _, count = pipe.execute()
        except RedisError:
            log.warning("portal.login_limit_unavailable")
            return 0
        return int(count)

    def succeeded(self, email: str, address: str) -> None:
        """A correct password clears the count."""
        try:
            self._redis().delete(self._key(email, address))
        except RedisError:
            log.warning("portal.login_limit_unavailable")
