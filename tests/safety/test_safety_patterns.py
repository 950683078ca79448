"""The curators' pattern language: wildcards, alternatives, optional words, gaps."""

import pytest

from bot.safety.exceptions import LexiconError
from bot.safety.normalize import normalise
from bot.safety.patterns import compile_patterns


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
    ],
)
def test_pattern_language(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


@pytest.mark.parametrize("bad", ["(unclosed", "closed)", "a (b|) c", "re:(", "!!!", ""])
def test_bad_patterns_fail_with_the_entry_named(bad: str) -> None:
    with pytest.raises(LexiconError, match="en.suicide.x"):
        compile_patterns([bad], "en.suicide.x")
