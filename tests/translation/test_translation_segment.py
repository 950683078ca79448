"""Sentence splitting keeps every sentence and the editor's layout."""

from translation.segment import split


def test_sentences_split_and_rejoin_unchanged() -> None:
    text = "You are not alone.  Take a deep breath!\n\nCall 0800.720.600 now? Yes"
    seg = split(text)
    assert seg.sentences == ["You are not alone.", "Take a deep breath!", "Call 0800.720.600 now?", "Yes"]
    assert seg.join(seg.sentences) == text


def test_other_scripts_full_stops_end_sentences() -> None:
    assert split("मैं ठीक हूँ। धन्यवाद").sentences == ["मैं ठीक हूँ।", "धन्यवाद"]
    assert len(split("ሰላም ነው። እንዴት ነህ").sentences) == 2


def test_blank_text_has_no_sentences_and_keeps_its_whitespace() -> None:
    seg = split("  \n")
    assert seg.sentences == []
    assert seg.join([]) == "  \n"


def test_surrounding_whitespace_survives() -> None:
    seg = split("  Hello. Bye.\n")
    assert seg.join(["Habari.", "Kwaheri."]) == "  Habari. Kwaheri.\n"
