"""The worker builds its crisis gate from every gate setting in the configuration."""

from __future__ import annotations

from typing import Any

import pytest
from safety_support import CONTENT_DIR

from bot.safety.classifier import DEFAULT_ASK_AT, DEFAULT_CONCERN_AT, DEFAULT_HIGH_AT
from bot.safety.gate import SafetyGate
from bot.safety.similarity import DEFAULT_MARGIN, DEFAULT_THRESHOLD
from core.config import Config, ConfigError
from workers.runtime import gate_settings


class RecordingConfig(dict):  # type: ignore[type-arg]
    """A config mapping that remembers every key the gate asks for."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def test_every_setting_the_gate_reads_reaches_the_worker_gate() -> None:
    config = Config.from_env({"SAFETY_EMBEDDINGS": "false", "SAFETY_CLASSIFIER_HIGH": "0.7",
                              "SAFETY_CLASSIFIER_CONCERN": "0.2", "SAFETY_CLASSIFIER_ASK": "0.4",
                              "SAFETY_SIMILARITY_THRESHOLD": "0.6",
                              "SAFETY_SIMILARITY_MARGIN": "0.08", "SAFETY_EMBEDDING_THREADS": "2"},
                             CONTENT_DIR=str(CONTENT_DIR))
    settings = RecordingConfig(gate_settings(config))
    SafetyGate.from_config(settings)
    missing = {key for key in settings.asked if key.startswith("SAFETY_") or key.endswith("_DIR")} - set(settings)
    assert not missing
    assert settings["SAFETY_CLASSIFIER_HIGH"] == 0.7 and settings["SAFETY_CLASSIFIER_CONCERN"] == 0.2
    assert settings["SAFETY_SIMILARITY_THRESHOLD"] == 0.6 and settings["SAFETY_SIMILARITY_MARGIN"] == 0.08
    assert settings["SAFETY_EMBEDDING_THREADS"] == 2 and settings["SAFETY_CLASSIFIER_ASK"] == 0.4


def test_config_defaults_are_the_gate_defaults() -> None:
    config = Config()
    assert config.SAFETY_SIMILARITY_THRESHOLD == DEFAULT_THRESHOLD
    assert config.SAFETY_SIMILARITY_MARGIN == DEFAULT_MARGIN
    assert config.SAFETY_CLASSIFIER_HIGH == DEFAULT_HIGH_AT
    assert config.SAFETY_CLASSIFIER_CONCERN == DEFAULT_CONCERN_AT
    assert config.SAFETY_CLASSIFIER_ASK == DEFAULT_ASK_AT


@pytest.mark.parametrize(("name", "value"), [("SAFETY_CLASSIFIER_HIGH", "0.01"), ("SAFETY_SIMILARITY_MARGIN", "1.5"),
                                             ("SAFETY_EMBEDDING_THREADS", "0"), ("SAFETY_CLASSIFIER_ASK", "0.9")])
def test_bad_gate_thresholds_fail_at_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})
