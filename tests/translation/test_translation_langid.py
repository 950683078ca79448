"""Language ID on short SMS-style texts, measured on the shipped eval sets."""

from pathlib import Path

import pytest

from translation import langid
from translation.langid import Detection, choose_language, detect
from translation.langid_eval import DEFAULT_EVAL_FILE, evaluate, read_eval_csv

HELDOUT_FILE = Path(langid.__file__).parent / "data" / "langid_heldout.csv"

# Floors a little under what was measured (docs/translation.md has the figures), so a
# regression in any language fails while harmless noise does not.
FLOOR = {
    "am": 0.95, "ar": 0.9, "en": 0.95, "es": 0.9, "fr": 0.9, "ha": 0.95, "hi": 0.9,
    "pt": 0.95, "so": 0.95, "sw": 0.95, "ur": 0.95, "yo": 0.95, "zu": 0.95,
}  # fmt: skip


@pytest.fixture(scope="module")
def eval_report():
    return evaluate(read_eval_csv(DEFAULT_EVAL_FILE))


def test_eval_set_covers_the_languages_people_write(eval_report) -> None:
    assert set(eval_report.total) == set(FLOOR)
    assert all(n >= 16 for n in eval_report.total.values())


@pytest.mark.parametrize("lang", sorted(FLOOR))
def test_accuracy_per_language_stays_above_its_floor(eval_report, lang: str) -> None:
    assert eval_report.accuracy(lang) >= FLOOR[lang], eval_report.confusions.get(lang)


def test_overall_accuracy_on_eval_and_heldout_sets(eval_report) -> None:
    assert eval_report.overall >= 0.97
    heldout = evaluate(read_eval_csv(HELDOUT_FILE))
    assert heldout.overall >= 0.95, heldout.confusions


def test_word_lists_are_what_makes_hinglish_and_swahili_work(monkeypatch) -> None:
    rows = read_eval_csv(DEFAULT_EVAL_FILE)
    with_words = evaluate(rows)
    monkeypatch.setattr(langid, "W_WORDS", 0.0)
    without = evaluate(rows)
    assert with_words.accuracy("hi") > without.accuracy("hi") + 0.3
    assert with_words.overall > without.overall


@pytest.mark.parametrize("text", ["ok", "1", "help", "😀😀", "k", "STOP", "yes", "", "   ", "+254 700 000 001"])
def test_short_or_ambiguous_texts_are_not_reliable(text: str) -> None:
    detection = detect(text)
    assert not detection.reliable
    assert detection.confidence < langid.RELIABLE_CONFIDENCE


@pytest.mark.parametrize(
    ("text", "lang", "script"),
    [
        ("nimechoka sana leo", "sw", "Latn"),
        ("mujhe bahut tension hai yaar", "hi", "Latn"),
        ("मुझे बहुत तनाव है", "hi", "Deva"),
        ("በጣም ደክሞኛል ዛሬ", "am", "Ethi"),
        ("ina jin tsoro sosai", "ha", "Latn"),
        ("எனக்கு உதவி வேண்டும்", "ta", "Taml"),
        ("Habari, piga 0800 720 600 sasa https://example.org", "sw", "Latn"),
    ],
)
def test_reliable_detections(text: str, lang: str, script: str) -> None:
    detection = detect(text)
    assert (detection.lang, detection.script, detection.reliable) == (lang, script, True)


def test_ethiopic_script_only_allows_amharic_or_tigrinya() -> None:
    assert detect("ሰላም").lang in {"am", "ti"}
    assert detect("ሰላም ከመይ ኣለኹም").lang in {"am", "ti"}


def test_a_deployment_can_restrict_the_candidates() -> None:
    # Unrestricted, this short Spanish text looks like Lingala to the detectors; a
    # deployment serving Spanish, English and Swahili gets it right, and confidently.
    restricted = detect("mi esposo me grita", languages=["es", "en", "sw"])
    assert (restricted.lang, restricted.reliable) == ("es", True)


def test_stored_language_always_beats_detection() -> None:
    sure = Detection("en", 0.99, True, "Latn")
    assert choose_language(sure, "sw", 0.5) == "sw"
    assert choose_language(sure, None, 0.5) == "en"
    assert choose_language(Detection("en", 0.45, False, "Latn"), None, 0.4) is None
    assert choose_language(Detection("en", 0.6, True, "Latn"), None, 0.7) is None
    assert choose_language(Detection("und", 0.0, False), "sw-ke", 0.5) == "sw-KE"
