"""The normaliser makes the spellings people actually type meet the lexicon."""

import pytest

from bot.safety.normalize import normalise, variants


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("I want to DIE", " i want to die "),
        ("dieeeee!!!", " die "),
        ("Suicídio", " suicidio "),
        ("suicidio", " suicidio "),
        ("don’t", " dont "),
        ("J'ai envie de mourir", " jai envie de mourir "),
        ("self-harm...", " self harm "),
        ("أريدُ أنْ أموت", " اريد ان اموت "),  # harakat and hamza forms
        ("ज़िंदगी", " जिंदगी "),  # nukta dropped
        ("हूँ", " हूं "),  # chandrabindu typed as anusvara
        ("ሕይወት", " ህይወት "),  # Ge'ez homophones folded
        ("ƙwarai", " kwarai "),  # Hausa hooked letters
        ("Mo fẹ́ kú", " mo fe ku "),  # Yoruba tone marks
        ("💊💊 tonight", " 💊 💊 tonight "),
    ],
)
def test_normalise_folds_what_people_type(typed: str, canonical: str) -> None:
    assert normalise(typed) == canonical


def test_repeated_letters_collapse_on_both_sides() -> None:
    # "kill" and "kiiiill" meet because patterns are squeezed the same way.
    assert normalise("kill") == normalise("kiiiiill") == " kil "


def test_leetspeak_is_decoded_in_a_second_variant_only() -> None:
    plain, decoded = variants("k1ll mys3lf")
    assert plain == " k1l mys3lf "
    assert decoded == " kil myself "
    # "4ever" and "2nite" must also survive as typed.
    assert " 4ever " in variants("goodbye 4ever")[0]
    assert variants("hello there") == (" helo there ",)


def test_exclamation_inside_a_word_is_leet_but_not_at_the_end() -> None:
    assert variants("k!ll myself!")[-1] == " kil myself "
