"""Shared paths and builders for the safety tests (a plain module: conftest names clash across rooms)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CONTENT_DIR = ROOT / "content" / "library"
REDTEAM_CSV = ROOT / "content" / "redteam" / "crisis_redteam.csv"
# Curated texts' vectors shared by every test run on this machine (bot.safety.vectors): the real
# e5 model embeds the ~3,000 curated sentences once, not once per fixture.
SHARED_VECTORS = Path(os.environ.get("TEST_EMBEDDING_CACHE_DIR") or Path(tempfile.gettempdir()) / "tumaini-test-vectors")


class TableEmbedder:
    """A hand-written embedder: fixed vectors per text, a default for anything else."""

    def __init__(self, table: dict[str, list[float]], default: list[float]) -> None:
        self.table = table
        self.default = default
        self.calls: list[str] = []

    def embed(self, texts: Any) -> np.ndarray:
        self.calls.extend(texts)
        rows = [np.asarray(self.table.get(t, self.default), dtype=np.float32) for t in texts]
        return np.stack([r / np.linalg.norm(r) for r in rows])


def lexicon_doc(locale: str = "xx", **overrides: Any) -> dict[str, Any]:
    """A minimal valid lexicon document that tests can bend out of shape."""
    doc: dict[str, Any] = {
        "kind": "crisis_lexicon",
        "locale": locale,
        "version": 1,
        "status": "draft",
        "provenance": {
            "author": "test",
            "co_design": None,
            "lived_experience_signoff": None,
            "clinical_reviewer": None,
            "language_review": None,
            "evidence": [],
        },
        "entries": [
            {"id": f"{locale}.suicide.die", "level": "high", "category": "suicide", "patterns": ["want to die"]},
        ],
    }
    doc.update(overrides)
    return doc
