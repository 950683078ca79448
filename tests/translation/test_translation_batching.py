"""Burst batching: concurrent messages share one model call, each caller gets its own answer."""

import threading
import time

import pytest

from translation.base import Translation, Translator
from translation.batching import BatchingTranslator


class SlowUpper(Translator):
    """Hand-written fake: upper-cases after a fixed delay and records every batch it serves."""

    def __init__(self, delay_s: float = 0.05, fail: bool = False):
        self.delay_s = delay_s
        self.fail = fail
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def translate_batch(self, texts, src, tgt, *, cacheable=False):
        with self.lock:
            self.batches.append(list(texts))
        time.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("model exploded")
        return [Translation(t.upper(), 0.9, True) for t in texts]

    def supports(self, src, tgt):
        return True

    def version(self, src, tgt):
        return "upper"


def run_concurrently(batcher: BatchingTranslator, texts: list[str], src="en", tgt="sw") -> list:
    results: list = [None] * len(texts)
    errors: list = []

    def call(i: int) -> None:
        try:
            results[i] = batcher.translate(texts[i], src, tgt)
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results if not errors else errors


def test_a_burst_is_served_in_few_batches_and_answers_go_to_the_right_caller() -> None:
    inner = SlowUpper(delay_s=0.2)
    batcher = BatchingTranslator(inner, max_batch=16, max_wait_s=1.0)
    texts = [f"message {i}" for i in range(12)]
    results = run_concurrently(batcher, texts)
    assert [r.text for r in results] == [t.upper() for t in texts]
    assert len(inner.batches) <= 3  # the first runs alone; the rest gather while it runs
    assert sum(len(b) for b in inner.batches) == 12


def test_an_idle_translator_adds_no_waiting() -> None:
    batcher = BatchingTranslator(SlowUpper(delay_s=0.0), max_wait_s=1.5)
    started = time.monotonic()
    assert batcher.translate("hello", "en", "sw").text == "HELLO"
    assert time.monotonic() - started < 0.5


def test_max_batch_splits_a_large_burst() -> None:
    inner = SlowUpper(delay_s=0.3)
    batcher = BatchingTranslator(inner, max_batch=4, max_wait_s=2.0)
    run_concurrently(batcher, [f"m{i}" for i in range(10)])
    assert max(len(b) for b in inner.batches) <= 4
    assert batcher.stats.items == 10


def test_waiting_is_bounded_by_max_wait_even_when_the_model_is_busy() -> None:
    inner = SlowUpper(delay_s=1.5)
    batcher = BatchingTranslator(inner, max_wait_s=0.2)
    first = threading.Thread(target=batcher.translate, args=("first", "en", "sw"))
    first.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert batcher.translate("second", "en", "sw").text == "SECOND"
    first.join()
    # The second did not wait for the first batch to finish: 0.2 s wait + 1.5 s model time.
    assert time.monotonic() - started < 2.5
    assert batcher.stats.max_wait_s < 0.5


def test_language_pairs_are_batched_separately() -> None:
    inner = SlowUpper(delay_s=0.2)
    batcher = BatchingTranslator(inner, max_wait_s=0.5)
    threads = [
        threading.Thread(target=batcher.translate, args=(f"x{i}", "en", tgt)) for i, tgt in enumerate(["sw", "ha"] * 3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for batch in inner.batches:
        assert len({int(x[1:]) % 2 for x in batch}) == 1


def test_every_caller_in_a_failed_batch_gets_the_error() -> None:
    batcher = BatchingTranslator(SlowUpper(delay_s=0.1, fail=True), max_wait_s=0.5)
    errors = run_concurrently(batcher, ["a", "b", "c"])
    assert len(errors) == 3 and all("exploded" in str(e) for e in errors)


class HoldsFirstCall(Translator):
    """Passes calls to the real translator, holding the first until the others have queued.

    Then the first message runs alone (the model was idle when it came) and the rest arrive
    while it runs, however slowly the machine starts their threads.
    """

    def __init__(self, inner: Translator, others: int):
        self.inner = inner
        self.others = others
        self.batcher: BatchingTranslator | None = None
        self.first = True

    def translate_batch(self, texts, src, tgt, *, cacheable=False):
        if self.first:
            self.first = False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and sum(len(b.texts) for b in self.batcher._open.values()) < self.others:
                time.sleep(0.005)
        return self.inner.translate_batch(texts, src, tgt, cacheable=cacheable)

    def supports(self, src, tgt):
        return self.inner.supports(src, tgt)

    def version(self, src, tgt):
        return self.inner.version(src, tgt)

    def route(self, src, tgt):
        return self.inner.route(src, tgt)


def test_with_a_real_model_concurrent_messages_share_one_call(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    stack.translator.translate("Hello, how are you today?", "en", "sw")  # warm: load once
    texts = ["You are not alone.", "Take a deep breath.", "Talk to someone you trust.", "Call 116 now."]
    held = HoldsFirstCall(stack.translator, others=len(texts) - 1)
    batcher = held.batcher = BatchingTranslator(held, max_batch=len(texts), max_wait_s=5.0)
    results = run_concurrently(batcher, texts)
    assert [r.text for r in results] == [  # each caller gets its own answer
        "Hauko peke yako.",
        "Vuta pumzi ndefu.",
        "Ongea na mtu unayemwamini.",
        "Piga 116 sasa.",
    ]
    # Warm-up, the first message on its own, then the three that arrived meanwhile in one call.
    assert batcher.stats.batches == 2 and batcher.stats.largest == len(texts) - 1
    assert len(stack.loader.calls("opus-en-sw")) == 3


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        BatchingTranslator(SlowUpper(), max_batch=0)
