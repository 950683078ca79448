"""Segment counting and GSM-7 normalisation, checked against carrier arithmetic."""

from __future__ import annotations

import pytest

from core.sms import SegmentInfo, gsm_safe, is_gsm7, non_gsm7_chars, segment_info

EMOJI = "\U0001f60a"  # outside the BMP: a surrogate pair in UTF-16


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo("GSM-7", 0, 0, 160, 160)),
        ("a" * 160, SegmentInfo("GSM-7", 160, 1, 160, 0)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2, 153, 145)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2, 153, 0)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3, 153, 152)),
        ("€" * 80, SegmentInfo("GSM-7", 160, 1, 160, 0)),
        ("€" * 81, SegmentInfo("GSM-7", 162, 2, 153, 143)),
        ("{}[]~|^\\\f", SegmentInfo("GSM-7", 18, 1, 160, 142)),
        ("é" * 160, SegmentInfo("GSM-7", 160, 1, 160, 0)),
        ("ж" * 70, SegmentInfo("UCS-2", 70, 1, 70, 0)),
        ("ж" * 71, SegmentInfo("UCS-2", 71, 2, 67, 63)),
        ("ж" * 134, SegmentInfo("UCS-2", 134, 2, 67, 0)),
        ("ж" * 135, SegmentInfo("UCS-2", 135, 3, 67, 66)),
        (EMOJI * 35, SegmentInfo("UCS-2", 70, 1, 70, 0)),
        (EMOJI * 36, SegmentInfo("UCS-2", 72, 2, 67, 61)),
    ],
)
def test_segment_counts_match_carrier_arithmetic(text: str, expected: SegmentInfo) -> None:
    assert segment_info(text) == expected


def test_escape_sequence_is_never_split_across_segments() -> None:
    # 152 plain septets then '€': the escape would straddle the 153-septet boundary,
    # so the whole pair moves to segment two.
    info = segment_info("a" * 152 + "€" + "a" * 10)
    assert info.units == 164
    assert info.segments == 2
    assert info.remaining_in_last == 153 - 12


def test_escape_sequence_boundary_can_add_a_segment() -> None:
    # 153 septets of 'a' + 76 '€' = 305 septets, which would fit two segments of 153
    # if the escapes could straddle; they cannot at the first boundary.
    text = "a" * 152 + "€" * 77
    assert segment_info(text).units == 306
    assert segment_info(text).segments == 3


def test_surrogate_pair_is_never_split_across_segments() -> None:
    text = "ж" * 66 + EMOJI + "ж" * 67
    info = segment_info(text)
    assert info.encoding == "UCS-2"
    assert info.units == 135
    # 66 + 2 would overflow 67, so the emoji opens segment two (2 + 67 = 69 > 67 -> three).
    assert info.segments == 3
    assert info.remaining_in_last == 67 - 2


def test_swahili_with_gsm_accent_stays_gsm() -> None:
    text = "Habari! Karibu kwenye huduma ya Tumaini. Unaweza kujibu MENYU wakati wowote. è"
    assert segment_info(text).encoding == "GSM-7"


def test_one_accent_outside_gsm_forces_ucs2_for_the_whole_message() -> None:
    base = "Karibu " * 20  # 140 GSM characters: one segment
    assert segment_info(base).segments == 1
    with_accent = base + "á"
    info = segment_info(with_accent)
    assert info.encoding == "UCS-2"
    assert info.units == 141
    assert info.segments == 3
    assert non_gsm7_chars(with_accent) == ["á"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It\u2019s \u201cfine\u201d \u2013 really\u2026", 'It\'s "fine" - really...'),
        ("Reply\u00a0MENU\u202f: \u2022 sleep", "Reply MENU : - sleep"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("\u00abBonjour\u00bb", '"Bonjour"'),
        ("tab\there", "tab here"),
    ],
)
def test_gsm_safe_replaces_lookalikes_when_result_is_gsm(text: str, expected: str) -> None:
    assert gsm_safe(text) == expected
    assert is_gsm7(gsm_safe(text))


@pytest.mark.parametrize(
    "text",
    [
        "ሰላም\u2019 እንዴት ነህ\u2026",  # Amharic needs UCS-2 anyway
        "नमस्ते \u201cदोस्त\u201d",  # Hindi
        "مرحبا\u00a0بك",  # Arabic
        f"Great work \u2014 {EMOJI}",  # emoji
        "Está bien \u2019",  # Spanish accent outside GSM-7
    ],
)
def test_gsm_safe_leaves_ucs2_texts_as_written(text: str) -> None:
    assert gsm_safe(text) == text


def test_gsm_safe_removes_only_harmless_invisibles_from_ucs2_text() -> None:
    # The zero-width joiner inside an emoji sequence is meaningful and must stay;
    # the zero-width space is dropped.
    family = "\U0001f469\u200d\U0001f467"
    assert gsm_safe(f"{family}\u200b ok") == f"{family} ok"


def test_gsm_safe_changes_the_bill() -> None:
    text = "Don\u2019t worry. " * 11  # 154 characters
    assert segment_info(text).segments == 3
    assert segment_info(gsm_safe(text)).segments == 1
