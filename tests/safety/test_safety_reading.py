"""How the gate reads a message's words: whose language a signal is, negation after a hit,
reported speech, and the false alarms each rule exists to keep calm."""

import pytest

from bot.safety.gate import SafetyGate
from bot.safety.levels import Level

IMMINENT, HIGH, CONCERN, NONE = Level.IMMINENT, Level.HIGH, Level.CONCERN, Level.NONE


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("yo", "mo fe ku, mi o ri oorun sun"),  # Yoruba "sun" is sleep, not Somali poison
        ("ha", "su uku sun yi min fyade a hanya"),  # Hausa "sun" is "they (did)"
    ],
)
def test_a_signal_word_of_another_language_does_not_make_a_case_imminent(gate: SafetyGate, lang: str,
                                                                          text: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.level == HIGH, assessment.rules


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("so", "waxaan rabaa inaan is dilo, sun ayaan cunayaa"),
        ("sw", "nitajiua leo usiku"),
        ("yo", "mo fe pa ara mi loni"),
    ],
)
def test_a_signal_in_the_messages_own_language_still_makes_it_imminent(gate: SafetyGate, lang: str,
                                                                        text: str) -> None:
    assert gate.assess(text, lang).level == IMMINENT


def test_a_signal_counts_when_its_language_has_a_crisis_word_whatever_the_stated_language(gate: SafetyGate) -> None:
    assert gate.assess("waxaan rabaa inaan is dilo, sun ayaan cunayaa", "yo").level == IMMINENT
