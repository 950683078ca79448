"""How the gate reads a message's words: whose language a signal is, negation after a hit,
reported speech, and the false alarms each rule exists to keep calm."""

from collections.abc import Callable
from pathlib import Path

import pytest
from safety_support import lexicon_doc

from bot.safety.gate import SafetyGate
from bot.safety.levels import Level
from bot.safety.normalize import clause_marks

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


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "i want to die? no, never"),
        ("en", "want to die — not anymore"),
        ("ar", "ما عدت أريد أن أموت"),
        ("ar", "لم أعد أريد أن أموت"),
        ("fr", "j veu plus mourir"),
        ("fr", "je ne veux plus mourir"),
        ("fr", "je veux plus mourir"),
    ],
)
def test_a_wish_to_die_denied_after_it_or_no_longer_held_is_a_check_in(gate: SafetyGate, lang: str,
                                                                       text: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.level == CONCERN and any(r.startswith("neg:") for r in assessment.rules), assessment.rules


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "je veux plus vivre"),  # I no longer want to live
        ("fr", "je ne veux plus vivre"),
        ("ar", "ما عدت أتحمل، أريد أن أموت"),  # I can't bear it any more, I want to die
        ("en", "i want to die, no more pain"),
        ("en", "i want to kill myself, never told anyone"),
    ],
)
def test_no_longer_wanting_to_live_stays_a_crisis(gate: SafetyGate, lang: str, text: str) -> None:
    assert gate.assess(text, lang).is_crisis


def test_an_after_cue_may_start_on_the_hits_last_word(write_lexicon: Callable[..., Path]) -> None:
    library = write_lexicon(lexicon_doc(
        entries=[{"id": "xx.suicide.man", "level": "high", "category": "suicide", "patterns": ["marne ka man tha"]},
                 {"id": "xx.suicide.jeena", "level": "high", "category": "suicide", "patterns": ["jeena nahi"]}],
        negation={"after": ["tha (par)? ab nahi", "nahi"]},
    ))
    small = SafetyGate.from_directory(library, embeddings=False)
    assert small.assess("marne ka man tha par ab nahi", "xx").level == CONCERN
    assert small.assess("marne ka man tha", "xx").level == HIGH
    # a one-word cue on the hit's last word is the hit's own word, not a negation of it
    assert small.assess("jeena nahi", "xx").level == HIGH


def test_a_negated_entry_names_a_crisis_to_deny_it(write_lexicon: Callable[..., Path]) -> None:
    library = write_lexicon(lexicon_doc(entries=[
        {"id": "xx.suicide.die", "level": "high", "category": "suicide", "patterns": ["want to die"]},
        {"id": "xx.suicide.no_longer", "level": "high", "category": "suicide", "negated": True,
         "patterns": ["want no more to die"]},
    ]))
    assessment = SafetyGate.from_directory(library, embeddings=False).lexical("i want no more to die", "xx")
    assert assessment.level == CONCERN and assessment.negated and not assessment.may_be_raised()


@pytest.mark.parametrize(
    ("lang", "text", "ceiling"),
    [
        ("ar", "ابوي قال رح يقتلني اذا شاف علاماتي", CONCERN),  # grades: hyperbole
        ("ar", "شفت فيلم عن واحد بيقتل نفسه", CONCERN),  # a film
        ("hi-Latn", "tumhare bina mar jaunga jaan", CONCERN),  # romantic
        ("fr", "ma vie n'a plus de sens sans toi", CONCERN),  # romantic
    ],
)
def test_hyperbole_films_and_love_letters_are_not_a_crisis(gate: SafetyGate, lang: str, text: str,
                                                           ceiling: Level) -> None:
    assert gate.assess(text, lang).level <= ceiling, gate.assess(text, lang).rules


@pytest.mark.parametrize(
    ("lang", "text", "category"),
    [
        ("ar", "ابوي قال رح يقتلني", "violence"),  # a father's threat without the marks stays a threat
        ("ar", "ابوي بيضربني وقال رح يقتلني اذا شاف علاماتي", "violence"),  # and with blows, whatever the marks
        ("hi-Latn", "tumhare bina mar jaunga, sach mein khudkushi kar lunga", "suicide"),
        ("fr", "ma vie n'a plus de sens sans toi, je veux mourir", "suicide"),
    ],
)
def test_the_same_words_beside_a_real_crisis_still_reach_it(gate: SafetyGate, lang: str, text: str,
                                                            category: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.is_crisis and assessment.category == category, assessment.rules


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "my friend texted 'i want to die'"),
        ("en", "my friend texted me: i want to die"),
        ("en", "she said “I want to end it all”"),
        ("so", "wuxuu yiri waan is dilayaa"),
        ("sw", "alisema nataka kujiua"),
        ("sw", "rafiki yangu aliniambia nataka kujiua"),
        ("ar", "قال بدي اموت"),
        ("ar", "قالت: أريد أن أنتحر"),
    ],
)
def test_someone_elses_quoted_or_reported_words_are_about_them(gate: SafetyGate, lang: str, text: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.level == HIGH and assessment.category == "third_party", assessment.rules


def test_quoted_words_keep_their_plan(gate: SafetyGate) -> None:
    assessment = gate.assess("she said 'I'm going to kill myself tonight'", "en")
    assert assessment.level == IMMINENT and assessment.category == "third_party", assessment.rules


@pytest.mark.parametrize(
    ("lang", "text", "category"),
    [
        ("en", "my boyfriend said he'd leave me, I want to die", "suicide"),  # his words end at the comma
        ("en", "my mum said i cut myself", "self_harm"),  # English shifts the pronoun when it reports
        ("en", "I texted my friend 'i want to die'", "suicide"),  # the speaker quoting themself
        ("en", "i said 'i want to die' and she laughed", "suicide"),
        ("en", "my friend said 'i want to die' and i want to die too", "suicide"),
        ("sw", "nilisema nataka kujiua", "suicide"),  # "I said"
        ("ar", "قلت بدي اموت", "suicide"),  # "I said"
        ("ar", "كتبت رسالة وداع لأهلي", "suicide"),  # "I wrote" (also "she wrote": not a verb of reporting)
        ("en", "the voices tell me to kill him", "command_hallucination"),
        ("en", "the voices said 'i should kill myself'", "command_hallucination"),
    ],
)
def test_the_speakers_own_words_and_command_voices_are_never_someone_elses(gate: SafetyGate, lang: str, text: str,
                                                                           category: str) -> None:
    assessment = gate.assess(text, lang)
    assert assessment.is_crisis and assessment.category == category, assessment.rules


@pytest.mark.parametrize(
    ("text", "opens", "breaks"),
    [
        ("my friend texted 'i want to die'", {3}, {7}),
        ("he said he'd leave me, I want to die", set(), {5}),
        ("قال: بدي اموت", {1}, set()),
        ("j'ai dit « je veux mourir »", {2}, {5}),
    ],
)
def test_quotation_marks_and_clause_breaks_are_found_at_word_positions(text: str, opens: set[int],
                                                                       breaks: set[int]) -> None:
    assert clause_marks(text) == (frozenset(opens), frozenset(breaks))


@pytest.mark.parametrize("text", ["I took two tablets for my headache", "I took two paracetamol for my back"])
def test_an_ordinary_dose_is_not_raised_by_the_nearest_example(embedded_gate: SafetyGate, text: str) -> None:
    assert embedded_gate.assess(text, "en").level < HIGH, embedded_gate.assess(text, "en").rules


@pytest.mark.parametrize("text", ["عيلتي رح يكونوا احسن ولو مت", "بتمنى ومت"])
def test_a_clitic_on_a_short_arabic_crisis_word_is_read_through(gate: SafetyGate, text: str) -> None:
    assert gate.assess(text, "ar").is_crisis


def test_clitic_stems_are_listed_per_lexicon(write_lexicon: Callable[..., Path]) -> None:
    doc = lexicon_doc(entries=[{"id": "xx.suicide.mt", "level": "high", "category": "suicide", "patterns": ["lw mt"]}],
                      clitics=["w"])
    plain = SafetyGate.from_directory(write_lexicon(doc), embeddings=False)
    assert plain.assess("wlw mt", "xx").level == NONE  # "lw" is too short for the clitic rule
    listed = SafetyGate.from_directory(write_lexicon({**doc, "clitic_stems": ["lw"]}), embeddings=False)
    assert listed.assess("wlw mt", "xx").level == HIGH
    assert listed.assess("wlwx mt", "xx").level == NONE
