"""Lexicon files: the shipped ones load, and curators' mistakes fail with clear messages."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from safety_support import CONTENT_DIR, lexicon_doc

from bot.safety.exceptions import LexiconError
from bot.safety.gate import SafetyGate
from bot.safety.lexicon import load_lexicons

LANGUAGES = {"en", "sw", "es", "fr", "hi", "ar", "am", "ha", "pt", "yo", "zu", "so"}


def test_shipped_lexicons_cover_at_least_ten_languages() -> None:
    lexicons = load_lexicons(CONTENT_DIR)
    assert LANGUAGES <= set(lexicons)
    for lexicon in lexicons.values():
        assert lexicon.entries, lexicon.locale
        assert lexicon.provenance["author"]


def test_non_english_starter_lexicons_are_drafts_awaiting_review() -> None:
    lexicons = load_lexicons(CONTENT_DIR)
    for locale in LANGUAGES - {"en"}:
        assert lexicons[locale].status == "draft"
        assert lexicons[locale].provenance["clinical_reviewer"] is None


def test_draft_lexicons_are_used_and_retired_ones_are_not(write_lexicon: Callable[..., Path]) -> None:
    library = write_lexicon(
        lexicon_doc("xx"),
        lexicon_doc(
            "yy",
            status="retired",
            entries=[{"id": "yy.suicide.old", "level": "high", "category": "suicide", "patterns": ["old phrase"]}],
        ),
    )
    gate = SafetyGate.from_directory(library, embeddings=False)
    assert gate.assess("i want to die", "xx").is_crisis
    assert not gate.assess("old phrase", "yy").is_crisis


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "content_module"}, "not a crisis lexicon"),
        ({"status": "published"}, "status 'published'"),
        ({"version": 0}, "version"),
        ({"provenance": {"author": "x"}}, "provenance must state"),
        ({"status": "approved"}, "approved lexicon needs"),
        ({"entries": [{"id": "xx.a.b", "level": "urgent", "category": "suicide", "patterns": ["x"]}]}, "unknown level"),
        (
            {"entries": [{"id": "xx.a.b", "level": "high", "category": "sadness", "patterns": ["x"]}]},
            "category 'sadness'",
        ),
        ({"entries": [{"id": "xx.a.b", "level": "high", "patterns": ["x"]}]}, "needs a category"),
        ({"entries": [{"id": "xx.a.b", "patterns": ["x"]}]}, "must be a signal"),
        (
            {"entries": [{"id": "zz.a.b", "level": "high", "category": "suicide", "patterns": ["x"]}]},
            "must start with 'xx.'",
        ),
        ({"entries": [{"id": "xx.a.b", "level": "high", "category": "suicide", "patterns": ["re:("]}]}, "xx.a.b"),
        ({"entries": [{"id": "xx.a.b", "level": "high", "category": "suicide"}]}, "needs 'patterns'"),
        (
            {
                "entries": [
                    {"id": "xx.a.b", "level": "high", "category": "suicide", "patterns": ["x"]},
                    {"id": "xx.a.b", "level": "high", "category": "suicide", "patterns": ["y"]},
                ]
            },
            "duplicate id",
        ),
        ({"negation": {"window": 12}}, "window"),
        ({"negation": {"fillers": ["would", False]}}, "quote yes/no/on/off"),
        ({"negation": {"before": [False]}}, "non-empty text"),
    ],
)
def test_malformed_lexicons_fail_naming_the_problem(
    write_lexicon: Callable[..., Path], change: dict[str, Any], message: str
) -> None:
    library = write_lexicon(lexicon_doc("xx", **change))
    with pytest.raises(LexiconError, match=message):
        load_lexicons(library)


def test_locale_must_match_its_folder(tmp_path: Path) -> None:
    import yaml

    folder = tmp_path / "fr"
    folder.mkdir()
    (folder / "crisis_lexicon.yaml").write_text(yaml.safe_dump(lexicon_doc("xx")), encoding="utf-8")
    with pytest.raises(LexiconError, match="does not match its folder"):
        load_lexicons(tmp_path)


def test_an_empty_library_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="no crisis_lexicon.yaml"):
        load_lexicons(tmp_path)


def test_spellings_read_a_misspelt_word_as_the_word(write_lexicon: Callable[..., Path]) -> None:
    library = write_lexicon(lexicon_doc("xx", spellings={"die": ["dye", "dai"], "want": ["wnt"]}))
    gate = SafetyGate.from_directory(library, embeddings=False)
    assert gate.assess("i wnt to dyeee", "xx").is_crisis
    assert gate.assess("I WANT TO DAI", "xx").is_crisis
    assert not gate.assess("i want to dine", "xx").is_crisis


def test_shipped_spellings_reach_every_lexicon(gate: SafetyGate) -> None:
    assert gate.assess("thinking of killing mysef", "en").category == "suicide"
    assert gate.assess("nataka kujiuwa", "sw").category == "suicide"


@pytest.mark.parametrize(
    ("spellings", "message"),
    [
        (["dye"], "must map a word"),
        ({"want to": ["wanna"]}, "must be one word"),
        ({"die": ["d y e"]}, "must be one word"),
        ({"die": []}, "must be a list of words"),
    ],
)
def test_bad_spellings_fail_with_the_file(write_lexicon: Callable[..., Path], spellings: Any, message: str) -> None:
    library = write_lexicon(lexicon_doc("xx", spellings=spellings))
    with pytest.raises(LexiconError, match=message):
        load_lexicons(library)


def test_clitic_prefixes_are_read_with_and_without(write_lexicon: Callable[..., Path]) -> None:
    doc = lexicon_doc(
        "xx",
        clitics=["و"],
        entries=[{"id": "xx.suicide.die", "level": "high", "category": "suicide", "patterns": ["خالي يلمسني"]}],
    )
    gate = SafetyGate.from_directory(write_lexicon(doc), embeddings=False)
    assert gate.assess("عمري 12 وخالي يلمسني", "xx").is_crisis
    assert gate.assess("خالي يلمسني", "xx").is_crisis
    with pytest.raises(LexiconError, match="clitics"):
        load_lexicons(write_lexicon(lexicon_doc("xx", clitics="و")))
