"""Fixtures for the content layer: the starter library (loaded once) and tiny libraries."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from content.cli import DEFAULT_CONTENT_DIR, content_cli
from content.loader import load_library
from content.schema import Library
from content.store import ContentStore
from content.validate import ENGINE_MESSAGE_IDS

PROVENANCE = """
  provenance:
    author: Test author
    clinical_reviewer: Dr Test
"""

BASE_FILES = {
    "library.yaml": """
        kind: library
        source_locale: en
        default_locale: en
        default_region: test
    """,
    "regions/test.yaml": """
        kind: region
        name: Test region
        time_zone: Africa/Nairobi
        default_locale: en
        locales: [en]
        required_locales: [en]
        helplines:
          - {name: Test line, number: "+1 202 555 0100", opening_hours: 24/7}
        emergency: {number: "112"}
        allow:
          numbers: ["+1 202 555 0199"]
          domains: [who.int]
    """,
    "en/keywords.yaml": """
        kind: keywords
        status: approved
        provenance: {author: Test author}
        actions:
          stop: [STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT]
          start: [START, UNSTOP, "YES"]
          help: [HELP, INFO]
          talk: [TALK]
          "yes": ["YES"]
          "no": ["NO"]
          next: [NEXT]
          back: [BACK]
          menu: [MENU]
          bot: [BOT]
          data: [DATA]
          delete: [DELETE]
          language: [LANGUAGE]
          pause: [PAUSE]
          resume: [RESUME]
    """,
}


def engine_messages() -> str:
    """A messages file holding every id the engine needs, so small libraries validate."""
    lines = ["kind: crisis", "defaults:", "  status: approved", PROVENANCE.strip("\n"), "messages:"]
    for message_id in ENGINE_MESSAGE_IDS:
        body = "Call {helplines}" if message_id.startswith("crisis") else f"Text of {message_id}."
        lines.append(f'  {message_id}: "{body}"')
    return "\n".join(lines)


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write dedented YAML files under ``root``."""
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_library(tmp_path: Path) -> Callable[..., Path]:
    """Build a small valid library folder plus extra files; returns its path."""

    def make(extra: dict[str, str] | None = None, base: bool = True) -> Path:
        files = {**BASE_FILES, "en/engine.yaml": engine_messages()} if base else {}
        files.update(extra or {})
        return write_files(tmp_path / "library", files)

    return make


@pytest.fixture(scope="session")
def starter_library() -> Library:
    """The shipped starter library, loaded once for the session."""
    return load_library(DEFAULT_CONTENT_DIR)


@pytest.fixture(scope="session")
def starter_store() -> ContentStore:
    """A store over the shipped starter library (loaded and validated once)."""
    return ContentStore.from_library(DEFAULT_CONTENT_DIR)


@pytest.fixture
def cli_runner(tmp_path: Path) -> Callable[[Path], FlaskCliRunner]:
    """A CLI runner for a throwaway app whose CONTENT_DIR is the given folder."""

    def runner(content_dir: Path) -> FlaskCliRunner:
        app = Flask("content-tests")
        app.config["CONTENT_DIR"] = str(content_dir)
        app.cli.add_command(content_cli)
        return app.test_cli_runner()

    return runner
