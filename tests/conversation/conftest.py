"""Fixtures for the conversation room: a library for a deployment with several regions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conversation.regional_support import build


@pytest.fixture(scope="session")
def regional_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("regional") / "library")
