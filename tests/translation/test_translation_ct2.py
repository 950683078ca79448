"""CTranslate2 translators with real tiny models: loading, tokens, batching, confidence, memory."""

import math

import pytest
import sentencepiece

from translation.base import LOW_CONFIDENCE
from translation.catalog import load_model_info
from translation.ct2 import CT2Translator
from translation.errors import UnsupportedLanguagePair
from translation.pool import MB, LoadOptions, ModelPool


def test_nothing_loads_until_the_first_translation(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    assert stack.translator.supports("en", "sw") and stack.translator.route("sw", "ha") == ["nllb-tiny"]
    assert stack.loader.loads == [] and stack.pool.loaded() == []
    stack.translator.translate("You are not alone.", "en", "sw")
    assert stack.loader.loads == ["opus-en-sw"]
    stack.translator.translate("Take a deep breath.", "en", "sw")
    assert stack.loader.loads == ["opus-en-sw"]  # loaded once, reused


def test_the_trained_model_translates_what_it_learned(stack_for, full_store) -> None:
    result = stack_for(full_store).translator.translate("You are not alone. Take a deep breath.", "en", "sw")
    assert result.text == "Hauko peke yako. Vuta pumzi ndefu."
    assert result.ok and result.confidence > 0.8


def test_nllb_input_carries_source_and_target_language_tokens(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    stack.translator.translate("nimechoka sana leo", "sw", "ha")
    ((source, options),) = stack.loader.calls("nllb-tiny")
    assert source[0][0] == "swh_Latn" and source[0][-1] == "</s>"
    assert options["target_prefix"] == [["hau_Latn"]]
    assert options["return_scores"] is True


def test_pair_model_input_has_no_language_tokens(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    stack.translator.translate("You are not alone.", "en", "sw")
    ((source, options),) = stack.loader.calls("opus-en-sw")
    assert source[0][-1] == "</s>" and not any("_Latn" in t for t in source[0])
    assert "target_prefix" not in options


def test_tokenization_round_trips_through_the_model_tokenizer(full_store) -> None:
    info = load_model_info(full_store / "nllb-tiny")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(info.source_tokenizer))
    translator = CT2Translator(info, ModelPool(100))
    source, _ = translator.encode(["nimechoka sana leo rafiki"], "sw", "en")
    assert translator.decode(source[0]) == "nimechoka sana leo rafiki"
    assert sp.unk_id() not in sp.encode("nimechoka sana leo rafiki")


def test_a_batch_of_texts_is_one_model_call(stack_for, full_store) -> None:
    stack = stack_for(full_store, threshold=0.0)
    texts = ["Habari", "nimechoka sana. leo rafiki", "ina gajiya", "", "sana"]
    results = stack.translator.translate_batch(texts, "sw", "fr")
    calls = stack.loader.calls("nllb-tiny")
    assert len(calls) == 1
    assert len(calls[0][0]) == 5  # every sentence of every non-empty text
    assert len(results) == 5 and results[3].text == ""


def test_confidence_gate_follows_the_threshold(stack_for, full_store) -> None:
    text = "Talk to someone you trust."
    confident = stack_for(full_store, threshold=0.35).translator.translate(text, "en", "sw")
    assert confident.ok and confident.reason is None
    strict = stack_for(full_store, threshold=0.9999).translator.translate(text, "en", "sw")
    assert (strict.ok, strict.reason) == (False, LOW_CONFIDENCE)
    assert strict.confidence == pytest.approx(confident.confidence)
    garbage = stack_for(full_store).translator.translate("nimechoka sana leo", "sw", "ha")
    assert (garbage.ok, garbage.reason) == (False, LOW_CONFIDENCE)
    assert garbage.confidence < 0.1


def test_confidence_is_the_geometric_mean_token_probability(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    result = stack.translator.translate("Talk to someone you trust.", "en", "sw")
    ((source, options),) = stack.loader.calls("opus-en-sw")
    real = stack.loader.models["opus-en-sw"].real
    hypothesis = real.translate_batch(source, beam_size=options["beam_size"])[0].hypotheses[0]
    log_probs = real.score_batch(source, [hypothesis])[0].log_probs
    assert result.confidence == pytest.approx(math.exp(sum(log_probs) / len(log_probs)), rel=0.05)


def test_a_pair_the_model_does_not_serve_is_refused(full_store) -> None:
    translator = CT2Translator(load_model_info(full_store / "opus-en-sw"), ModelPool(100))
    assert not translator.supports("sw", "en")
    with pytest.raises(UnsupportedLanguagePair):
        translator.translate("Habari", "sw", "en")


def test_memory_budget_unloads_the_least_recently_used_model(stack_for, full_store) -> None:
    sizes = {name: load_model_info(full_store / name).size_bytes for name in ("opus-en-sw", "nllb-tiny")}
    budget_mb = max(sizes.values()) / MB
    assert sum(sizes.values()) > budget_mb * MB  # only one fits at a time
    stack = stack_for(full_store, budget_mb=budget_mb)
    stack.translator.translate("Habari", "sw", "ha")
    stack.translator.translate("You are not alone.", "en", "sw")
    assert [p.name for p in stack.pool.loaded()] == ["opus-en-sw"]
    assert stack.pool.unloads == 1
    stack.translator.translate("Habari", "sw", "ha")
    assert stack.loader.loads == ["nllb-tiny", "opus-en-sw", "nllb-tiny"]


def test_a_generous_budget_keeps_models_loaded(stack_for, full_store) -> None:
    stack = stack_for(full_store, budget_mb=500)
    for _ in range(2):
        stack.translator.translate("Habari", "sw", "ha")
        stack.translator.translate("You are not alone.", "en", "sw")
    assert stack.loader.loads == ["nllb-tiny", "opus-en-sw"] and stack.pool.unloads == 0


def test_threads_and_int8_are_passed_to_ctranslate2(full_store) -> None:
    pool = ModelPool(100, LoadOptions(inter_threads=1, intra_threads=2))
    info = load_model_info(full_store / "opus-en-sw")
    model = pool.get(info.path, info.size_bytes)
    assert model.compute_type.startswith("int8") and model.num_translators == 1
    assert model.device == "cpu"
