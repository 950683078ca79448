"""Routing: identity, direct models (pairs first), pivots through English, manifests."""

import json
import shutil

import pytest

from translation import manifest
from translation.build import TranslationSettings, build_translator
from translation.catalog import load_model_info, scan
from translation.errors import UnsupportedLanguagePair


def test_same_language_is_identity_and_loads_nothing(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    result = stack.translator.translate("Habari, piga 116", "sw-KE", "sw")
    assert (result.text, result.ok, result.confidence) == ("Habari, piga 116", True, 1.0)
    assert stack.loader.loads == []


def test_a_pair_model_is_preferred_to_the_multilingual_one(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    assert stack.translator.route("en", "sw") == ["opus-en-sw"]
    assert stack.translator.route("en", "ha") == ["nllb-tiny"]


def test_without_a_direct_model_the_pair_pivots_through_english(stack_for, pairs_store) -> None:
    stack = stack_for(pairs_store, threshold=0.0)
    assert stack.translator.route("sw", "ha") == ["opus-sw-en", "opus-en-ha"]
    results = stack.translator.translate_batch(["nimechoka sana", "Habari. leo"], "sw", "ha")
    first, second = stack.loader.calls("opus-sw-en"), stack.loader.calls("opus-en-ha")
    assert len(first) == 1 and len(second) == 1  # one call per leg for the whole batch
    assert len(first[0][0]) == 3
    assert len(results) == 2
    assert stack.loader.loads == ["opus-sw-en", "opus-en-ha"]  # English leg first


def test_pivot_confidence_is_the_weaker_leg(stack_for, pairs_store) -> None:
    router = stack_for(pairs_store, threshold=0.0).translator.inner  # below protection
    pivoted = router.translate("nimechoka sana", "sw", "ha")
    leg1 = router.translate("nimechoka sana", "sw", "en")
    leg2 = router.translate(leg1.text, "en", "ha")
    assert pivoted.confidence == pytest.approx(min(leg1.confidence, leg2.confidence), rel=1e-3)
    assert pivoted.text == leg2.text


def test_a_pair_nothing_can_serve_is_a_named_error(stack_for, pairs_store) -> None:
    translator = stack_for(pairs_store).translator
    assert not translator.supports("ha", "sw")  # no ha->en model
    with pytest.raises(UnsupportedLanguagePair, match="ha->sw"):
        translator.translate("ina kwana", "ha", "sw")


def test_the_version_changes_when_a_model_file_does(tmp_path, built_models) -> None:
    store = tmp_path / "models"
    shutil.copytree(built_models["opus-en-sw"], store / "opus-en-sw")
    before = build_translator(store, TranslationSettings()).version("en", "sw")
    manifest = json.loads((store / "opus-en-sw" / "manifest.json").read_text())
    manifest["files"]["model.bin"] = "0" * 64
    (store / "opus-en-sw" / "manifest.json").write_text(json.dumps(manifest))
    assert build_translator(store, TranslationSettings()).version("en", "sw") != before


def test_broken_manifests_are_skipped_and_bcp47_language_lists_work(tmp_path, built_models, caplog) -> None:
    store = tmp_path / "models"
    shutil.copytree(built_models["nllb-tiny"], store / "nllb-bcp47")
    manifest = json.loads((store / "nllb-bcp47" / "manifest.json").read_text())
    manifest["languages"] = ["en", "sw", "ha"]
    (store / "nllb-bcp47" / "manifest.json").write_text(json.dumps(manifest))
    (store / "broken").mkdir()
    (store / "broken" / "manifest.json").write_text("{not json")
    (store / "generator").mkdir()
    (store / "generator" / "manifest.json").write_text(json.dumps({**manifest, "kind": "generator"}))
    assert [m.name for m in scan(store)] == ["nllb-tiny"]
    assert "skipping model directory" in caplog.text
    translator = build_translator(store, {"TRANSLATION_CONFIDENCE_THRESHOLD": 0.0})
    assert translator.supports("sw", "ha") and not translator.supports("sw", "fr")
    assert translator.translate("Habari", "sw", "ha").text is not None


def test_an_empty_models_dir_still_serves_identity(tmp_path) -> None:
    translator = build_translator(tmp_path / "nothing-here", TranslationSettings())
    assert translator.translate("hello", "en", "en").text == "hello"
    with pytest.raises(UnsupportedLanguagePair):
        translator.translate("hello", "en", "sw")


def test_built_models_satisfy_the_store_and_share_its_version(built_models) -> None:
    for name in ("opus-en-sw", "nllb-tiny"):
        model_dir = built_models[name]
        assert manifest.verify_model_dir(model_dir) == []
        assert load_model_info(model_dir).version == manifest.model_version(model_dir)
