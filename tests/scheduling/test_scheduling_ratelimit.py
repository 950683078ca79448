"""Per-sender pacing through one Redis bucket shared by every worker (real Redis)."""

from __future__ import annotations

import threading
import time

import pytest
from redis import Redis

from workers.ratelimit import RateLimited, SenderBucket


class FakeClock:
    """Seconds that pass only when someone sleeps; shared by the "workers" of a test."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


@pytest.fixture()
def redis(redis_url):
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.mark.parametrize("n, rate", [(50, 10.0), (30, 1.0), (200, 100.0), (12, 3.0)])
def test_n_sends_at_rate_r_take_at_least_n_minus_one_over_r(redis, n, rate):
    clock = FakeClock()
    # Three workers share the sender: each takes the next message, in turn.
    workers = [SenderBucket(redis, "+15550009999", rate, clock=clock, sleep=clock.sleep) for _ in range(3)]
    start = clock()
    for i in range(n):
        workers[i % 3].acquire(max_wait_s=60)
    elapsed = clock() - start
    assert elapsed >= (n - 1) / rate - 1e-4  # slots are kept to the microsecond
    assert elapsed <= (n - 1) / rate + 0.01  # and no slower than the rate allows


def test_an_idle_sender_sends_at_once_and_a_different_sender_has_its_own_bucket(redis):
    clock = FakeClock()
    sms = SenderBucket(redis, "+15550009999", 1.0, clock=clock, sleep=clock.sleep)
    whatsapp = SenderBucket(redis, "whatsapp:+15550009999", 1.0, clock=clock, sleep=clock.sleep)
    assert sms.acquire() == 0 and whatsapp.acquire() == 0
    assert sms.acquire() == pytest.approx(1.0)
    clock.sleep(5)  # a quiet spell does not bank a burst beyond the configured one
    assert sms.acquire() == 0 and sms.acquire() == pytest.approx(1.0)


def test_a_slot_further_away_than_the_caller_will_wait_is_refused_and_not_taken(redis):
    clock = FakeClock()
    bucket = SenderBucket(redis, "+15550009999", 1.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.reserve(max_wait_s=60)
    with pytest.raises(RateLimited) as refused:
        bucket.reserve(max_wait_s=2)
    assert refused.value.wait_s == pytest.approx(5.0)
    assert bucket.reserve(max_wait_s=60).wait_s == pytest.approx(5.0)  # the refusal took nothing


def test_threads_sharing_a_sender_on_the_real_clock_keep_to_its_rate(redis_url):
    rate, per_thread, threads = 20.0, 7, 3
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        bucket = SenderBucket(Redis.from_url(redis_url), "+15550001111", rate)  # a connection per worker
        for _ in range(per_thread):
            bucket.acquire(max_wait_s=10)
            with lock:
                stamps.append(time.monotonic())

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    stamps.sort()
    n = per_thread * threads
    assert len(stamps) == n
    assert stamps[-1] - stamps[0] >= (n - 1) / rate - 0.02  # Redis's clock and ours may differ by a tick

