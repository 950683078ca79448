"""A long message of repeated crisis words is read in linear time (bench/safety.py has the figures)."""

import time

from bench.safety import LONG_SEEDS
from bot.safety.gate import SafetyGate


def _best_cpu_ms(gate: SafetyGate, text: str, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        gate.assess(text, "en")
        best = min(best, (time.process_time() - start) * 1000)
    return best


def _message(seed: str, kb: int) -> str:
    return (seed * (kb * 1024 // len(seed.encode()) + 1)).encode()[: kb * 1024].decode(errors="ignore")


def test_sixteen_kilobytes_of_crisis_words_stay_linear_and_fast(gate: SafetyGate) -> None:
    for name, seed in LONG_SEEDS.items():
        small = _best_cpu_ms(gate, _message(seed, 4))
        large = _best_cpu_ms(gate, _message(seed, 16))
        # about 20 ms on a 2-core machine; the bound leaves room for a busy CI box
        assert large < 250, (name, large)
        # four times the text takes about four times as long; quadratic would be sixteen
        assert large < 8 * max(small, 0.5), (name, small, large)
