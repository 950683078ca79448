"""Checks with a real pretrained model (e.g. NLLB-200 distilled 600M converted to int8).

Run with TRANSLATION_MODEL_DIR pointing at a MODELS_DIR that holds it (with manifest.json);
skipped otherwise, since no weights can be downloaded in CI.
"""

import os
from pathlib import Path

import pytest

from translation import gate
from translation.build import TranslationSettings, build_translator
from translation.langid import detect

MODEL_DIR = os.environ.get("TRANSLATION_MODEL_DIR")

pytestmark = [
    pytest.mark.pretrained,
    pytest.mark.skipif(not MODEL_DIR, reason="set TRANSLATION_MODEL_DIR to a MODELS_DIR with a real model"),
]

EN_SW = [
    ("You are not alone.", "Hauko peke yako."),
    ("Take a deep breath.", "Vuta pumzi ndefu."),
    ("Talk to someone you trust.", "Zungumza na mtu unayemwamini."),
    ("How are you feeling today?", "Unajisikiaje leo?"),
    ("Sleep is important for your health.", "Usingizi ni muhimu kwa afya yako."),
    ("Drink water and rest.", "Kunywa maji na upumzike."),
]


@pytest.fixture(scope="module")
def translator():
    return build_translator(Path(MODEL_DIR), TranslationSettings())


def test_real_model_translates_into_the_target_language(translator) -> None:
    result = translator.translate("I am here to listen to you whenever you need to talk.", "en", "sw")
    assert result.ok, result
    assert detect(result.text).lang == "sw"


def test_real_model_keeps_hotlines_and_links(translator) -> None:
    result = translator.translate("Call 0800 720 600 or visit https://findahelpline.com today.", "en", "sw")
    if result.ok:
        assert "0800 720 600" in result.text and "https://findahelpline.com" in result.text
    else:
        assert result.reason in {"protected token lost", "low confidence", "unexpected placeholder"}


def test_real_model_scores_reasonably_on_a_small_set(translator) -> None:
    sources, refs = [a for a, _ in EN_SW], [b for _, b in EN_SW]
    result = gate.evaluate(translator, sources, refs, "en", "sw")
    assert result.chrf > 35, result
