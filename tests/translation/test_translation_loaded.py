"""What a worker can say about its translators: which are loaded, and how long they take."""

import pytest

from translation.catalog import load_model_info
from translation.latency import TRANSLATION, LatencyRecorder
from translation.pool import loaded_models


def test_a_translator_is_reported_once_it_loads_and_not_before(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    assert stack.pool.resident() == []
    stack.translator.translate("You are not alone.", "en", "sw")
    (model,) = stack.pool.resident()
    info = load_model_info(full_store / "opus-en-sw")
    assert (model.name, model.version, model.quantization) == ("opus-en-sw", info.version, "int8")
    assert (model.compute_type, model.threads) == ("int8", 1)
    assert model in loaded_models()  # the process-wide view the heartbeat reads


def test_an_unloaded_translator_leaves_the_report(stack_for, full_store) -> None:
    sizes = [load_model_info(full_store / name).size_bytes for name in ("opus-en-sw", "nllb-tiny")]
    stack = stack_for(full_store, budget_mb=max(sizes) / 2**20)  # room for one at a time
    stack.translator.translate("Habari", "sw", "ha")
    assert [m.name for m in stack.pool.resident()] == ["nllb-tiny"]
    stack.translator.translate("You are not alone.", "en", "sw")
    assert [m.name for m in stack.pool.resident()] == ["opus-en-sw"]
    stack.pool.clear()
    assert stack.pool.resident() == []


def test_each_translation_batch_is_timed_under_its_model(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    TRANSLATION.drain()
    stack.translator.translate_batch(["You are not alone.", "Take a deep breath."], "en", "sw")
    stack.translator.translate("Habari", "sw", "ha")
    drained = TRANSLATION.drain()
    assert sorted(drained) == ["nllb-tiny", "opus-en-sw"]
    assert drained["opus-en-sw"].count == 1  # one CTranslate2 call for the whole batch
    assert sum(drained["opus-en-sw"].buckets) == 1 and drained["opus-en-sw"].total_s > 0
    assert TRANSLATION.drain() == {}


def test_latency_counts_fall_in_the_first_bucket_that_holds_them() -> None:
    recorder = LatencyRecorder((0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 7.0):
        recorder.observe("m", seconds)
    assert recorder.bounds() == ["0.1", "1.0", "+Inf"]
    counts = recorder.drain()["m"]
    assert counts.buckets == [2, 1, 1] and counts.count == 4 and counts.total_s == pytest.approx(7.65)


def test_counts_that_could_not_be_shipped_are_kept_for_the_next_drain() -> None:
    recorder = LatencyRecorder((1.0,))
    recorder.observe("m", 0.5)
    failed = recorder.drain()
    recorder.observe("m", 2.0)
    recorder.observe("n", 0.2)
    recorder.restore(failed)
    drained = recorder.drain()
    assert drained["m"].buckets == [1, 1] and drained["m"].count == 2
    assert drained["n"].buckets == [1, 0]


@pytest.mark.parametrize("buckets", [(1.0, 0.5), (0.5, 0.5), (1.0, float("inf"))])
def test_buckets_must_be_finite_and_increasing(buckets) -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        LatencyRecorder(buckets)
