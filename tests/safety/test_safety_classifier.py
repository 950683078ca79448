"""The learnt reading: paraphrases nobody wrote down still reach the crisis path.

Real e5 embeddings over the shipped curated sentences throughout.
"""

from __future__ import annotations

import csv

import pytest
from safety_support import CONTENT_DIR, REDTEAM_CSV, SHARED_VECTORS

from bot.safety.classifier import NONE, curated_sentences
from bot.safety.gate import SafetyGate
from bot.safety.levels import Level
from bot.safety.lexicon import load_lexicons
from bot.safety.similarity import MAX_SENTENCES, sentences


@pytest.fixture(scope="module")
def gate() -> SafetyGate:
    built = SafetyGate.from_directory(CONTENT_DIR, embeddings=True, vectors_dir=SHARED_VECTORS)
    built.warm()
    return built


@pytest.mark.parametrize(("text", "lang"), [
    ("je veux plus etre la demain", "fr"),  # "I don't want to be here tomorrow", SMS French
    ("je veux plus être là", "fr"),
])
def test_a_paraphrase_of_not_wanting_to_live_reads_as_suicide(gate, text, lang):
    reading = gate.similarity.read(text)[1]
    assert reading is not None and reading.category == "suicide"
    assert reading.score >= gate.similarity.classifier.high_at
    assessment = gate.assess(text, lang)
    assert assessment.level >= Level.HIGH and assessment.category == "suicide"


@pytest.mark.parametrize(("text", "lang"), [
    ("ya no quiero seguir aqui", "es"),  # "I don't want to go on here any more"
    ("nimechoka na kila kitu", "sw"),  # "I am tired of everything"
])
def test_a_paraphrase_the_learnt_reading_is_less_sure_of_is_at_least_asked_about(gate, text, lang):
    assessment = gate.assess(text, lang)
    assert assessment.level >= Level.HIGH or assessment.ask == "suicide"


def test_hopelessness_the_lexicon_leaves_alone_is_at_least_a_concern(gate):
    text = "i dont see the point anymore honestly"
    assert gate.assess(text, "en").level >= Level.CONCERN


def test_a_crisis_told_in_one_sentence_of_a_longer_message_is_not_diluted_by_the_rest(gate):
    # Read whole, the good news outweighs the one sentence that matters (its score is below
    # zero); read sentence by sentence, giving things away "because I won't need them" is clear.
    text = ("The harvest was good this year. Prices at the market are low. "
            "I gave my phone and my bicycle to my brother, I won't need them.")
    assert gate.lexical(text, "en").level == Level.NONE
    assert gate.similarity.classifier.read(text).score < gate.similarity.classifier.high_at
    assessment = gate.assess(text, "en")
    assert assessment.level >= Level.HIGH and assessment.category == "suicide"


def test_an_everyday_message_of_several_sentences_stays_below_crisis(gate):
    text = "Thank you for the sleep tips. I tried the breathing. I slept better last night."
    assessment = gate.assess(text, "en")
    assert assessment.level < Level.HIGH and assessment.ask is None


def test_a_long_message_is_read_by_its_first_and_last_sentences():
    story = ". ".join(f"day {n} was long at the market" for n in range(1, 21))
    parts = sentences(story + ". I have given away everything I own")
    assert len(parts) == MAX_SENTENCES
    assert parts[0] == "day 1 was long at the market" and parts[-1] == "I have given away everything I own"
    assert sentences("just one sentence here.") == []
    assert sentences("ok. fine.") == []  # one-word pieces are not sentences worth a reading


@pytest.mark.parametrize(("text", "lang"), [
    ("I would never kill myself, I'm just exhausted", "en"),
    ("this exam is killing me lol", "en"),
    ("my phone is dead again", "en"),
    ("can you help me sleep better", "en"),
])
def test_negations_idioms_and_everyday_requests_stay_below_crisis(gate, text, lang):
    assert gate.assess(text, lang).level < Level.HIGH


def test_the_held_out_red_team_rows_are_never_learnt_from():
    with REDTEAM_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    held_out = {r["text"].strip().lower() for r in rows if r["split"] == "test"}
    for sealed in sorted(REDTEAM_CSV.parent.glob("crisis_fresh_wave*.csv")):
        with sealed.open(encoding="utf-8") as handle:
            held_out |= {r["text"].strip().lower() for r in csv.DictReader(handle)}
    learnt = curated_sentences(CONTENT_DIR, load_lexicons(CONTENT_DIR).values())
    assert len([s for s in learnt if s.label != NONE]) > 500
    assert held_out.isdisjoint(s.text.strip().lower() for s in learnt)
    # the rows written apart from the lexicons are learnt from, with their pathway
    learn = {(r["text"], r["category"] if r["expected"] == "crisis" else NONE) for r in rows if r["split"] == "learn"}
    assert learn and learn <= {(s.text, s.label) for s in learnt}


def test_a_library_without_labelled_sentences_leaves_the_classifier_off(write_lexicon, table_embedder):
    from safety_support import lexicon_doc

    library = write_lexicon(lexicon_doc("xx"))
    built = SafetyGate.from_directory(library, embedder=table_embedder({}, [1.0, 0.0]))
    assert built.similarity is not None and built.similarity.classifier is None


def test_the_classifier_can_be_switched_off():
    built = SafetyGate.from_config({"CONTENT_DIR": str(CONTENT_DIR), "SAFETY_CLASSIFIER": False})
    assert built.similarity is not None and built.similarity.classifier is None


# Hopelessness, fear at home and wishing to be gone, in words the lexicons may or may not hold.
UNCLEAR = [
    ("nobody would care if i wasnt here", "en"),
    ("ya no aguanto más", "es"),
    ("he gets so angry at night and i hide", "en"),
    ("sometimes i think everyone would be better without me around", "en"),
    ("nimechoka na kila kitu", "sw"),
    ("i am so tired of being me", "en"),
]


@pytest.mark.parametrize(("text", "lang"), UNCLEAR)
def test_a_possible_crisis_below_high_says_which_way_it_leans_so_the_person_can_be_asked(gate, text, lang):
    reading = gate.similarity.read(text)[1]
    assert reading is not None
    classifier = gate.similarity.classifier
    assessment = gate.assess(text, lang)
    in_band = assessment.level < Level.HIGH and classifier.ask_at <= reading.score < classifier.high_at
    assert assessment.ask == (reading.category if in_band else None), (reading, assessment)
    if in_band:
        assert assessment.level == Level.CONCERN


def test_some_unclear_messages_are_asked_about_and_none_of_them_is_left_at_none(gate):
    assessments = [gate.assess(text, lang) for text, lang in UNCLEAR]
    assert any(a.ask for a in assessments)
    assert all(a.level >= Level.CONCERN for a in assessments)


@pytest.mark.parametrize(("text", "lang"), [
    ("I would never kill myself, I'm just exhausted", "en"),  # a negation the lexicon read
    ("can you help me sleep better", "en"),
    ("what is depression", "en"),
    ("I want to kill myself", "en"),  # HIGH: the crisis reply, never a question
])
def test_negations_everyday_requests_and_clear_crises_are_never_asked_about(gate, text, lang):
    assert gate.assess(text, lang).ask is None


def test_the_fit_learns_what_a_direct_solve_learns_in_under_half_its_memory():
    # A worker fits at start-up beside its translation and dialogue models. numpy's own solver
    # would hold the kernel in double precision and copy it; the fit factorises it in place.
    import tracemalloc

    import numpy as np

    from bot.safety.classifier import CrisisClassifier, Labelled

    rng = np.random.default_rng(7)
    n, labels = 1800, ("none", "suicide", "violence")  # four blocks of the solver, the last one short
    sentences = [Labelled(f"s{i}", labels[i % 3]) for i in range(n)]
    vectors = rng.normal(size=(n, 32)).astype(np.float32)
    vectors[np.arange(n) % 3 == 1, 0] += 3.0  # the crisis sentences sit apart, as in e5's space
    model = CrisisClassifier(None, sentences)
    tracemalloc.start()
    model.fit(vectors)
    _, fitted_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    fit = model._fitted
    assert fit is not None
    wide = fit.curated.astype(np.float64)
    kernel = np.exp(2.0 * (wide @ wide.T - 1.0))
    counts = {label: sum(s.label == label for s in sentences) for label in labels}
    weights = np.array([counts[s.label] ** -0.5 for s in sentences])
    weights /= weights.mean()
    kernel[np.diag_indices_from(kernel)] += model.ridge / weights
    targets = np.zeros((n, 3))
    targets[np.arange(n), [model.labels.index(s.label) for s in sentences]] = 1.0
    direct = np.linalg.solve(kernel, targets)
    _, direct_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert fitted_peak < 0.45 * direct_peak
    assert np.allclose(fit.dual, direct, atol=1e-3)
    assert model.read_vector(vectors[1] + 0.1).category == "suicide"
