"""The curators' pattern language: wildcards, alternatives, optional words, gaps."""

import pytest

from bot.safety.exceptions import LexiconError
from bot.safety.inflect import bases
from bot.safety.normalize import normalise
from bot.safety.automaton import compile_patterns


def matches(pattern: str, text: str) -> bool:
    return compile_patterns([pattern], "test").search(normalise(text))


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("want to die", "I want to die", True),
        ("want to die", "I want to dine", False),  # whole tokens only
        ("suicid*", "feeling suicidal", True),
        ("*نتحر*", "سأنتحر", True),
        ("(to|2) die", "want 2 die", True),
        ("(really|so)? tired of life", "tired of life", True),
        ("(really|so)? tired of life", "so tired of life", True),
        ("want ~ die", "I want to just die", True),
        ("want ~1 die", "I want to just die", False),
        ("(kill myself|end it all)", "i will end it all", True),
        ("re:kil+ me", "kill me", True),
        ("Suicídio", "SUICIDIO", True),
        ("kill+ myself", "I killed myself in the dream", True),
        ("kill+ myself", "killin myself slowly", True),
        ("stop+ existing", "i just stopped existing", True),
        ("save+ up my meds", "been saving up my meds", True),
        ("take+ all the pills", "I took all the pills", True),
        ("die+", "my plant is dying", True),
        ("try+ to", "she tried to", True),
        ("kill+", "the kiln is hot", False),  # a suffix is taken off, never a letter inside
        ("killing", "killed", False),  # without "+" a word is literal
    ],
)
def test_pattern_language(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


@pytest.mark.parametrize(
    ("word", "expected", "never"),
    [
        ("kils", "kil", None),
        ("dying", "die", None),
        ("tried", "try", None),
        ("saving", "save", None),
        ("hung", "hang", None),
        ("is", "be", "i"),  # a base is never under three letters unless listed as irregular
        ("us", "us", "u"),
        ("was", "be", "wa"),
    ],
)
def test_message_words_are_read_as_the_bases_they_inflect(word: str, expected: str, never: str | None) -> None:
    found = bases(word)
    assert expected in found
    assert never not in found


@pytest.mark.parametrize("bad", ["(unclosed", "closed)", "a (b|) c", "re:(", "!!!", "", "su*+", "i+"])
def test_bad_patterns_fail_with_the_entry_named(bad: str) -> None:
    with pytest.raises(LexiconError, match="en.suicide.x"):
        compile_patterns([bad], "en.suicide.x")
