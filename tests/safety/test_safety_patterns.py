"""The curators' pattern language: wildcards, alternatives, optional words, gaps."""

import random

import pytest

from bot.safety.automaton import compile_patterns
from bot.safety.exceptions import LexiconError
from bot.safety.inflect import bases
from bot.safety.normalize import normalise
from bot.safety.patterns import ANY, Gap, expand_patterns


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


def test_a_pattern_over_the_limit_fails_but_repeated_alternatives_do_not_count_twice() -> None:
    with pytest.raises(LexiconError, match="en.x.y: pattern has too many combinations"):
        compile_patterns([" ".join(f"(a{i}|b{i}|c{i})" for i in range(10))], "en.x.y")
    # fifteen "(x|x)" count 32,768 from the tree but are one sequence written out
    assert compile_patterns([" ".join(["(x|x)"] * 15)], "en.x.y").search("x " * 15)


_VOCAB = ["a", "b", "c", "d"]


def _random_phrase(rng: random.Random, depth: int) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.2:
            parts.append(rng.choice(["~", "~1", "~2"]))
        elif roll < 0.4 and depth < 2:
            alts = [_random_phrase(rng, depth + 1) for _ in range(rng.randint(1, 3))]
            parts.append("(" + "|".join(alts) + ")" + rng.choice(["", "?"]))
        else:
            parts.append(rng.choice([*_VOCAB, "*"]) + rng.choice(["", "", "?"]))
    if not any(p.strip("?") in _VOCAB or p.startswith("(") for p in parts):
        parts.append(rng.choice(_VOCAB))
    return " ".join(parts)


def _brute_spans(sequences: list[tuple], words: list[str]) -> set[tuple[int, int]]:
    """Where any written-out sequence matches, tried at every start: the slow, obvious reading."""

    def ends(seq: tuple, i: int) -> set[int]:
        if not seq:
            return {i}
        sym, rest = seq[0], seq[1:]
        if isinstance(sym, Gap):
            return {e for skip in range(sym.size + 1) if i + skip <= len(words) for e in ends(rest, i + skip)}
        if i < len(words) and (sym == ANY or sym == words[i]):
            return ends(rest, i + 1)
        return set()

    return {(start, end) for seq in sequences for start in range(len(words)) for end in ends(seq, start)}


def test_the_automaton_finds_what_the_written_out_sequences_find() -> None:
    """Choices shared, gaps added up and dropped at the ends: nothing found or lost against the sequences."""
    rng = random.Random(7)
    checked = 0
    for _ in range(400):
        phrases = [_random_phrase(rng, 0) for _ in range(rng.randint(1, 3))]
        try:
            sequences = expand_patterns(phrases, "test")
        except LexiconError:
            with pytest.raises(LexiconError):
                compile_patterns(phrases, "test")
            continue
        compiled = compile_patterns(phrases, "test")
        for _ in range(8):
            words = [rng.choice([*_VOCAB, "e"]) for _ in range(rng.randint(1, 9))]
            assert set(compiled.spans(" ".join(words))) == _brute_spans(sequences, words), (phrases, words)
            checked += 1
    assert checked > 2000
