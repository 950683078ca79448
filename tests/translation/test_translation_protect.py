"""Hotlines, links, placeholders, keywords and glossary terms survive translation or block it."""

from pathlib import Path

import pytest
import sentencepiece

from translation.base import PROTECTED_TOKEN_LOST, SPURIOUS_PLACEHOLDER, Translation, Translator
from translation.protect import Glossary, Masked, ProtectedTranslator, Protector


class EchoTranslator(Translator):
    """Hand-written fake: returns the (masked) input, or a fixed rewrite of it."""

    def __init__(self, rewrite=None):
        self.rewrite = rewrite or (lambda text: text)
        self.seen: list[str] = []

    def translate_batch(self, texts, src, tgt, *, cacheable=False):
        self.seen += texts
        return [Translation(self.rewrite(t), 0.9, True) for t in texts]

    def supports(self, src, tgt):
        return True

    def version(self, src, tgt):
        return "echo"


def test_numbers_links_placeholders_and_emails_are_masked_in_order() -> None:
    masked = Protector().mask(
        "Hi {name}, call +254 722 178 177 or visit https://findahelpline.com/ke. Mail help@ngo.org",
        "en", "sw",
    )  # fmt: skip
    assert masked.text == "Hi [0], call [1] or visit [2]. Mail [3]"
    assert masked.restore_to == ["{name}", "+254 722 178 177", "https://findahelpline.com/ke", "help@ngo.org"]


def test_restore_tolerates_spacing_and_full_width_brackets() -> None:
    masked = Masked("Call [0] or [1]", ["116", "0800 720 600"])
    restored = Protector().restore("Piga [ 0 ] au ［1］", masked)
    assert (restored.text, restored.missing) == ("Piga 116 au 0800 720 600", [])


def test_text_that_already_looks_like_a_mask_is_protected_too() -> None:
    protector = Protector()
    masked = protector.mask("See note [3] and call 116", "en", "sw")
    assert masked.text == "See note [0] and call [1]"
    assert protector.restore("Ona [0], piga [1]", masked).text == "Ona [3], piga 116"


def test_keywords_and_names_match_whole_words_with_their_case() -> None:
    protector = Protector(terms=["STOP", "Tumaini"])
    masked = protector.mask("Reply STOP to stop Tumaini messages. STOPPED", "en", "sw")
    assert masked.text == "Reply [0] to stop [1] messages. STOPPED"


def test_glossary_terms_come_back_as_the_community_chose_them() -> None:
    glossary = Glossary({("en", "sw"): {"stress": "msongo wa mawazo", "depression": "sonona"}})
    translator = ProtectedTranslator(
        EchoTranslator(lambda t: t.replace("I feel", "Ninahisi")), Protector(glossary=glossary)
    )
    result = translator.translate("I feel Stress and depression", "en", "sw")
    assert result.text == "Ninahisi msongo wa mawazo and sonona"
    assert result.ok
    # The glossary is per pair: English to Hausa leaves the words to the model.
    assert translator.translate("I feel stress", "en", "ha").text == "Ninahisi stress"


def test_glossary_reads_a_spreadsheet_export(tmp_path: Path) -> None:
    path = tmp_path / "glossary.csv"
    path.write_text("src,tgt,term,translation\nen,sw,stress,msongo wa mawazo\n", encoding="utf-8")
    assert Glossary.from_csv(path).terms("en", "sw-KE") == {"stress": "msongo wa mawazo"}


def test_a_lost_protected_token_rejects_the_translation() -> None:
    translator = ProtectedTranslator(EchoTranslator(lambda t: t.replace("[0]", "sifuri")))
    result = translator.translate("Call 0800 720 600 now", "en", "sw")
    assert (result.ok, result.reason) == (False, PROTECTED_TOKEN_LOST)
    assert "0800" not in result.text


def test_a_made_up_placeholder_rejects_the_translation() -> None:
    translator = ProtectedTranslator(EchoTranslator(lambda t: t + " [4]"))
    result = translator.translate("Call 116 now", "en", "sw")
    assert (result.ok, result.reason) == (False, SPURIOUS_PLACEHOLDER)


def test_the_cache_version_changes_with_the_glossary() -> None:
    inner = EchoTranslator()
    a = ProtectedTranslator(inner, Protector(glossary=Glossary({("en", "sw"): {"stress": "msongo"}})))
    b = ProtectedTranslator(inner, Protector(glossary=Glossary({("en", "sw"): {"stress": "dhiki"}})))
    assert a.version("en", "sw") != b.version("en", "sw")
    assert a.version("en", "ha") == b.version("en", "ha")


def test_masks_survive_the_real_sentencepiece_round_trip(built_models) -> None:
    sp = sentencepiece.SentencePieceProcessor(model_file=str(built_models["spm"]))
    masked = Protector().mask("Call 0800 720 600 now, {name}. Habari [7]", "en", "sw")
    assert masked.text == "Call [0] now, [1]. Habari [2]"
    assert sp.unk_id() not in sp.encode(masked.text)
    assert sp.decode(sp.encode(masked.text, out_type=str)) == masked.text


@pytest.fixture()
def trained(stack_for, full_store):
    return stack_for(
        full_store, protector=Protector(terms=["STOP"], glossary=Glossary({("en", "sw"): {"friend": "rafiki"}}))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call 0800 720 600 now.", "Piga 0800 720 600 sasa."),
        ("Visit https://findahelpline.com/ke for help.", "Tembelea https://findahelpline.com/ke upate msaada."),
        ("Hello {name}, we are here for you.", "Habari {name}, tuko hapa kwa ajili yako."),
        ("Reply STOP to stop.", "Jibu STOP kusitisha."),
        ("Hello friend, we are here for you.", "Habari rafiki, tuko hapa kwa ajili yako."),
    ],
)
def test_protected_spans_come_back_through_a_real_trained_model(trained, text: str, expected: str) -> None:
    result = trained.translator.translate(text, "en", "sw")
    assert (result.text, result.ok) == (expected, True)


def test_a_confident_translation_that_drops_a_hotline_is_rejected(trained) -> None:
    # The toy model never saw two masks in one sentence: it answers fluently, and confidently,
    # with a sentence it knows, and both numbers are gone.
    result = trained.translator.translate("Call 116 or 0800 720 600 now.", "en", "sw")
    assert result.confidence > 0.35
    assert (result.ok, result.reason) == (False, PROTECTED_TOKEN_LOST)
    assert not ("116" in result.text and "0800 720 600" in result.text)


def test_the_model_only_ever_sees_the_masks(stack_for, full_store) -> None:
    stack = stack_for(full_store)
    stack.translator.translate("Call 116 or +254 722 178 177 now.", "en", "ha")
    source = "".join(stack.loader.calls("nllb-tiny")[0][0][0])
    assert "116" not in source and "722" not in source
    assert "[0]" in source.replace("▁", "") and "[1]" in source.replace("▁", "")
