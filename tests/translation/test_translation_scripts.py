"""The script a language is written in, so a model only reads text in the script it was trained on."""

import pytest

from translation.errors import UnknownLanguage
from translation.langid import detect
from translation.scripts import language_scripts, profile, written_in


@pytest.mark.parametrize(
    ("tag", "scripts"),
    [
        ("hi", {"Deva"}),
        ("hi-Latn", {"Latn"}),
        ("sw", {"Latn"}),
        ("sw-KE", {"Latn"}),
        ("am", {"Ethi"}),
        ("ar", {"Arab"}),
        ("ur", {"Arab"}),
        ("ja", {"Jpan", "Hani"}),
        ("zh-Hant", {"Hani"}),
        ("yue", {"Hani"}),  # only the FLORES table knows Cantonese
        ("sr", {"Cyrl"}),
        ("sr-Latn", {"Latn"}),
        ("tlh", {"Latn"}),  # in no table: taken to be Latin-written
    ],
)
def test_scripts_a_language_is_written_in(tag: str, scripts: set[str]) -> None:
    assert language_scripts(tag) == scripts


@pytest.mark.parametrize(
    ("text", "tag", "fits"),
    [
        ("mujhe neend nahi aati", "hi", False),
        ("मुझे नींद नहीं आती", "hi", True),
        ("mujhe neend nahi aati", "hi-Latn", True),
        ("nimechoka sana leo", "sw", True),
        ("nimechoka sana leo", "am", False),
        ("በጣም ደክሞኛል ዛሬ", "am", True),
        ("1 2 3 😀", "hi", True),  # no letters: nothing that could be misread
    ],
)
def test_a_text_fits_a_language_only_in_its_script(text: str, tag: str, fits: bool) -> None:
    assert written_in(tag, profile(text).dominant) is fits
    assert written_in(tag, detect(text).script) is fits


def test_a_malformed_tag_is_refused() -> None:
    with pytest.raises(UnknownLanguage):
        language_scripts("not a tag")
