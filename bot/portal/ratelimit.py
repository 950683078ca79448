"""Counting failed logins in Redis, per account and per address, to slow down password guessing.

Three counters, each over ``window_s``:
- one account from one address (``max_failures``): someone guessing one password;
- one address, whatever the account (``max_per_address``): someone trying many accounts;
- one account, from every address (``max_per_account``): a guess spread over many addresses.
  A browser that has signed in to this account before (a mark kept in its session) is not
  held back by this one, so a stranger's failures cannot lock the real person out.

Client addresses are real only when ``PROXY_HOPS`` matches the proxies in front (nginx: 1);
otherwise every request looks like 127.0.0.1 and the address counters are one shared counter.

Keys hold a keyed hash of the account and address, never the email or the address itself,
and expire with the window, so nothing personal accumulates in Redis. When Redis cannot be
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
    """Failed sign-ins per account and address, per address, and per account."""

    def __init__(
        self,
        redis: Callable[[], Any],
        pseudonymise: Callable[[str], str],
        max_failures: int = 5,
        window_s: int = 900,
        max_per_address: int = 30,
        max_per_account: int = 20,
    ) -> None:
        self._redis = redis
        self._pseudonymise = pseudonymise
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_per_address = max_per_address
        self.max_per_account = max_per_account

    def _keys(self, email: str, address: str) -> dict[str, str]:
        account = email.strip().lower()
        return {
            "pair": PREFIX + self._pseudonymise(f"{account}|{address}")[:40],
            "address": PREFIX + "ip:" + self._pseudonymise(f"address|{address}")[:40],
            "account": PREFIX + "acct:" + self._pseudonymise(f"account|{account}")[:40],
        }

    def blocked_for(self, email: str, address: str, known_browser: bool = False) -> int:
        """Seconds until this account may try again from this address (0: it may try now)."""
        keys = self._keys(email, address)
        limits = {"pair": self.max_failures, "address": self.max_per_address, "account": self.max_per_account}
        if known_browser:
            del limits["account"]
        try:
            client = self._redis()
            counts = client.mget([keys[name] for name in limits])
            wait = 0
            for (name, limit), count in zip(limits.items(), counts, strict=True):
                if int(count or 0) >= limit:
                    wait = max(wait, int(client.ttl(keys[name])), 1)
        except RedisError:
            log.warning("portal.login_limit_unavailable")
            return 0
        return wait

    def failed(self, email: str, address: str) -> int:
        """Count one failure; returns this account's failures from this address in the current window."""
        keys = self._keys(email, address)
        try:
            pipe = self._redis().pipeline()
            for key in keys.values():
                pipe.set(key, 0, ex=self.window_s, nx=True)  # the window starts at the first failure
                pipe.incr(key)
            results = pipe.execute()
        except RedisError:
            log.warning("portal.login_limit_unavailable")
            return 0
        return int(results[1])

    def succeeded(self, email: str, address: str) -> None:
        """A correct password and code clear the count for this account from this address."""
        try:
            self._redis().delete(self._keys(email, address)["pair"])
        except RedisError:
            log.warning("portal.login_limit_unavailable")
