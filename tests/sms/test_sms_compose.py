"""Composing replies into channel-sized messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sms import WHATSAPP_MAX_CHARS, compose, segment_info, utf16_length

EMOJI = "\U0001f60a"


def test_short_text_is_one_message_and_normalised() -> None:
    assert compose("  Don\u2019t worry.  ", "sms") == ["Don't worry."]


def test_empty_text_sends_nothing() -> None:
    assert compose("   ", "sms") == []


def test_text_within_budget_is_not_split() -> None:
    text = "a" * 459  # exactly three concatenated GSM segments
    assert segment_info(text).segments == 3
    assert compose(text, "sms", segment_budget=3) == [text]


def test_splits_at_sentence_boundaries() -> None:
    sentence = "This is a calm sentence about sleep and rest. "  # 46 characters
    text = (sentence * 8).strip()  # 367 characters: three segments
    parts = compose(text, "sms", segment_budget=1)
    assert all(p.endswith(".") for p in parts)
    assert all(segment_info(p).segments == 1 for p in parts)
    assert " ".join(parts) == text


def test_a_numbered_menu_is_cut_between_items_never_after_a_number() -> None:
    items = [f"{n}. मन की छोटी जाँच और आराम के तरीके {n}" for n in range(1, 15)]  # UCS-2: 67 units a segment
    text = "आपको किस बारे में मदद चाहिए? नंबर लिखें:\n" + "\n".join(items)
    parts = compose(text, "sms", segment_budget=3)
    assert len(parts) > 1
    for part in parts:
        assert all(line.strip() and not re.fullmatch(r"\d+\.", line.strip()) for line in part.splitlines())
    assert [line for p in parts for line in p.splitlines()] == text.splitlines()


def test_prefers_sentence_over_word_boundary() -> None:
    first = "Short one."
    second = "word " * 40  # 200 characters: needs a word cut anyway
    parts = compose(f"{first} {second}", "sms", segment_budget=1)
    # A word cut could have packed more into the first message; the sentence end wins.
    assert parts[0] == first
    assert all(segment_info(p).segments == 1 for p in parts)
    assert " ".join(parts) == f"{first} {second}".strip()


def test_splits_at_words_when_a_sentence_is_too_long() -> None:
    text = " ".join(["breathe"] * 60)  # 479 characters, no sentence end
    parts = compose(text, "sms", segment_budget=1)
    assert [len(p) for p in parts] == [159, 159, 159]  # 20 whole words each
    assert all(set(p.split(" ")) == {"breathe"} for p in parts)


def test_splits_a_huge_word_between_characters() -> None:
    word = "x" * 400
    parts = compose(word, "sms", segment_budget=1)
    assert parts == ["x" * 160, "x" * 160, "x" * 80]


def test_never_splits_an_escape_sequence() -> None:
    text = "a" * 159 + "€" + "a" * 5
    parts = compose(text, "sms", segment_budget=1)
    assert parts == ["a" * 159, "€" + "a" * 5]


def test_never_splits_a_surrogate_pair() -> None:
    text = "ж" * 69 + EMOJI + "ж" * 3
    parts = compose(text, "sms", segment_budget=1)
    assert parts == ["ж" * 69, EMOJI + "ж" * 3]
    assert "".join(parts) == text


def test_never_splits_an_accent_from_its_letter() -> None:
    text = "a" * 69 + "e\u0301" + "b" * 10  # decomposed é at the boundary
    parts = compose(text, "sms", segment_budget=1)
    assert parts[0] == "a" * 69
    assert parts[1].startswith("e\u0301")


def test_budget_limits_each_part() -> None:
    text = "Rest well tonight. " * 40
    for budget in (1, 2, 3):
        parts = compose(text, "sms", segment_budget=budget)
        assert all(segment_info(p).segments <= budget for p in parts)
    assert len(compose(text, "sms", 3)) < len(compose(text, "sms", 1))


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        compose("hello", "sms", segment_budget=0)


def test_whatsapp_limit_is_4096() -> None:
    assert compose("a" * 4096, "whatsapp") == ["a" * 4096]
    parts = compose("a" * 4097, "whatsapp")
    assert [len(p) for p in parts] == [4096, 1]


def test_whatsapp_keeps_typography_and_splits_at_sentences() -> None:
    sentence = "\u201cOne step at a time\u201d \u2014 that is enough. "
    text = sentence * 200
    parts = compose(text, "whatsapp")
    assert len(parts) == 2
    assert all(utf16_length(p) <= WHATSAPP_MAX_CHARS for p in parts)
    assert parts[0].endswith("enough.")
    assert "\u201c" in parts[0]


def test_unknown_channel_is_rejected() -> None:
    with pytest.raises(ValueError):
        compose("hello", "ussd")  # type: ignore[arg-type]


texts = st.text(
    alphabet=st.sampled_from(list("abc xyz.!?\n€{}[]é") + ["ж", "á", EMOJI, "\u2019", "\u00a0", "\u2026"]),
    max_size=700,
)


def _visible(text: str) -> str:
    return re.sub(r"\s", "", text)


@settings(max_examples=150, deadline=None)
@given(text=texts, budget=st.integers(min_value=1, max_value=3))
def test_sms_compose_keeps_text_order_and_budget(text: str, budget: int) -> None:
    parts = compose(text, "sms", segment_budget=budget)
    assert all(segment_info(p).segments <= budget for p in parts)
    assert all(p == p.strip() and p for p in parts)
    from core.sms import gsm_safe

    assert _visible("".join(parts)) == _visible(gsm_safe(text))


@settings(max_examples=30, deadline=None)
@given(text=st.text(max_size=9000))
def test_whatsapp_compose_keeps_text_and_limit(text: str) -> None:
    parts = compose(text, "whatsapp")
    assert all(utf16_length(p) <= WHATSAPP_MAX_CHARS for p in parts)
    assert _visible("".join(parts)) == _visible(text)
