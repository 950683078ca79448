"""The MT quality gate: chrF++/BLEU on a parallel set, stored per model, tied to its version."""

import json
import shutil

import pytest

from translation import gate
from translation.build import TranslationSettings, build_translator
from translation.cache import TranslationCache
from translation.errors import EvalFileError
from translation.review import back_translation, draft_translation

TSV = "".join(f"{a}\t{b}\n" for a, b in [
    ("You are not alone.", "Hauko peke yako."),
    ("Take a deep breath.", "Vuta pumzi ndefu."),
    ("Talk to someone you trust.", "Ongea na mtu unayemwamini."),
    ("Call 0800 720 600 now.", "Piga 0800 720 600 sasa."),
])  # fmt: skip


@pytest.fixture()
def tsv(tmp_path):
    path = tmp_path / "en-sw.tsv"
    path.write_text(TSV, encoding="utf-8")
    return path


def evaluate(store, tsv, src, tgt, gate_chrf=45.0):
    translator = build_translator(store, TranslationSettings())
    sources, references = gate.read_parallel_tsv(tsv)
    return gate.evaluate(translator, sources, references, src, tgt, gate_chrf, models_dir=store)


def test_a_good_model_passes_and_the_language_is_enabled(writable_store, tsv) -> None:
    assert not gate.mt_enabled(writable_store, "sw")
    result = evaluate(writable_store, tsv, "en", "sw")
    assert result.chrf > 90 and result.bleu > 50 and result.passed
    assert result.models == ["opus-en-sw"]
    gate.record(writable_store, result)
    stored = json.loads((writable_store / "opus-en-sw" / "eval.json").read_text())
    assert stored["results"]["en>sw"]["chrf"] == result.chrf
    assert gate.mt_enabled(writable_store, "sw") and gate.mt_enabled(writable_store, "sw", src="en")
    assert gate.mt_status(writable_store, "sw") == gate.ENABLED
    assert not gate.mt_enabled(writable_store, "sw", src="fr")


def test_a_poor_model_needs_review(writable_store, tsv) -> None:
    result = evaluate(writable_store, tsv, "en", "ha")
    assert result.chrf < 45 and not result.passed and result.status == gate.NEEDS_REVIEW
    gate.record(writable_store, result)
    assert (writable_store / "nllb-tiny" / "eval.json").exists()
    assert gate.mt_status(writable_store, "ha") == gate.NEEDS_REVIEW


def test_the_gate_threshold_is_configurable(writable_store, tsv) -> None:
    assert not evaluate(writable_store, tsv, "en", "sw", gate_chrf=100.1).passed


def test_replacing_the_model_makes_the_language_need_review_again(writable_store, tsv) -> None:
    gate.record(writable_store, evaluate(writable_store, tsv, "en", "sw"))
    manifest_path = writable_store / "opus-en-sw" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["model.bin"] = "f" * 64
    manifest_path.write_text(json.dumps(manifest))
    assert not gate.mt_enabled(writable_store, "sw")


def test_a_new_route_is_not_covered_by_an_old_result(writable_store, tsv) -> None:
    # Evaluated through the multilingual model, then a pair model takes over the route.
    shutil.move(writable_store / "opus-en-sw", writable_store.parent / "aside")
    result = evaluate(writable_store, tsv, "en", "sw", gate_chrf=0.0)
    assert result.models == ["nllb-tiny"] and result.passed
    gate.record(writable_store, result)
    assert gate.mt_enabled(writable_store, "sw")
    shutil.move(writable_store.parent / "aside", writable_store / "opus-en-sw")
    assert not gate.mt_enabled(writable_store, "sw")


@pytest.mark.parametrize("content", ["", "only one column\n", "a\tb\tc\n", "\tref\n"])
def test_malformed_parallel_files_name_the_problem(tmp_path, content) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match="bad.tsv"):
        gate.read_parallel_tsv(path)


def test_reviewers_get_a_draft_and_a_back_translation(stack_for, writable_store, redis5) -> None:
    stack = stack_for(writable_store, cache=TranslationCache(redis5))
    draft = draft_translation("You are not alone.", "en", "sw", translator=stack.translator)
    assert draft.text == "Hauko peke yako." and draft.ok
    back = back_translation(draft.text, "en", "sw", translator=stack.translator)
    assert stack.translator.route("sw", "en") == ["opus-sw-en"]
    assert len(stack.loader.calls("opus-sw-en")) == 1 and back.text is not None
    assert redis5.dbsize() >= 1  # content drafts are cacheable
