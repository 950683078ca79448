"""The whole dialogue path: switches, generation, guard, translation, audit labels and fallbacks."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.dialogue import DialogueService, DialogueSettings, OutputGuard, respond
from bot.dialogue.generator import Generation
from bot.dialogue.pipeline import trim_to_sentence
from core.config import Config
from translation.errors import UnsupportedLanguagePair
from translation.manifest import model_version


def service(models_dir: Path, **settings: object) -> DialogueService:
    return DialogueService(DialogueSettings(**settings), models_dir)  # type: ignore[arg-type]


class ScriptedGenerator:
    """A hand-written stand-in that says what a test needs and records what it was asked."""

    name = "scripted"
    version = "v-test"

    def __init__(self, text: str, stop_reason: str = "end"):
        self.text = text
        self.stop_reason = stop_reason
        self.calls: list[Sequence[dict[str, str]]] = []

    def generate(self, messages, *, max_new_tokens, deadline, max_sentences=0) -> Generation:
        self.calls.append(messages)
        return Generation(self.text, len(self.text.split()), self.stop_reason, 0.01)


def test_a_warm_reply_is_sent_and_labelled_as_generated(warm_text: str, dialogue_models: Path) -> None:
    result = service(dialogue_models, model="warm", max_sentences=0).reply("I feel alone today", "en")
    assert result.generated and not result.fallback
    assert result.text == warm_text
    assert result.rule is None
    assert (result.model_name, result.model_version) == ("warm", model_version(dialogue_models / "warm"))


def test_a_reply_claiming_to_be_human_falls_back_with_the_rule(dialogue_models: Path) -> None:
    result = service(dialogue_models, model="human").reply("Are you a real person?", "en")
    assert (result.generated, result.text, result.rule) == (False, None, "human_claim")
    assert result.model_name == "human"


def test_a_reply_cut_by_the_token_budget_mid_sentence_is_not_sent(dialogue_models: Path) -> None:
    result = service(dialogue_models, model="loop", max_new_tokens=8).reply("Count with me", "en")
    assert (result.generated, result.rule, result.tokens, result.stop_reason) == (False, "incomplete", 8,
                                                                                    "max_tokens")


def test_a_tiny_deadline_returns_the_timeout_fallback(dialogue_models: Path) -> None:
    result = service(dialogue_models, model="warm", timeout_s=1e-6).reply("I feel alone today", "en")
    assert (result.generated, result.text, result.rule) == (False, None, "timeout")


def test_the_sentence_budget_sends_a_short_complete_reply(dialogue_models: Path) -> None:
    result = service(dialogue_models, model="warm", max_sentences=1).reply("I feel alone today", "en")
    assert (result.generated, result.text) == (True, "That sounds really hard .")


def test_switched_off_deployments_never_touch_the_model(tmp_path: Path) -> None:
    generator = ScriptedGenerator("That sounds hard.")
    off = DialogueService(DialogueSettings(enabled=False), generator=generator)
    assert off.reply("hello", "en").rule == "disabled"
    assert generator.calls == []


def test_generation_runs_only_in_the_languages_the_ngo_allowed() -> None:
    generator = ScriptedGenerator("That sounds hard.")
    svc = DialogueService(DialogueSettings(languages=("en", "sw")), generator=generator)
    assert svc.reply("bonjour", "fr").rule == "disabled"
    assert svc.reply("habari", "sw-KE").generated
    assert len(generator.calls) == 1


def test_a_missing_model_falls_back_instead_of_failing_the_job(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        result = service(tmp_path, model="smollm2-135m-instruct").reply("hello", "en")
    assert (result.generated, result.rule) == (False, "unavailable")
    assert any(r.getMessage() == "dialogue.generation_failed" for r in caplog.records)


def test_translation_wraps_generation_and_the_guard_checks_both_sides() -> None:
    seen: list[str] = []
    generator = ScriptedGenerator("That sounds hard.")
    guard = OutputGuard()

    def to_english(text: str) -> str:
        seen.append(text)
        return "I feel alone"

    result = respond("Ninajisikia mpweke", generator=generator, guard=guard, translate_in=to_english,
                     translate_out=lambda text: "Hiyo inaonekana ngumu.")
    assert seen == ["Ninajisikia mpweke"]
    assert generator.calls[0][-1] == {"role": "user", "content": "I feel alone"}
    assert (result.generated, result.text) == (True, "Hiyo inaonekana ngumu.")

    invented_number = respond("Ninajisikia mpweke", generator=generator, guard=guard, translate_in=to_english,
                              translate_out=lambda text: "Piga simu 0722 123 456.")
    assert (invented_number.generated, invented_number.rule) == (False, "phone")


def test_a_translation_failure_falls_back() -> None:
    def no_route(text: str) -> str:
        raise UnsupportedLanguagePair("no model for xx->en")

    result = respond("...", generator=ScriptedGenerator("That sounds hard."), guard=OutputGuard(),
                     translate_in=no_route)
    assert (result.generated, result.rule) == (False, "translation")


@pytest.mark.parametrize(("text", "rule"), [
    ("take 50mg of sertraline", "dose"),
    ("You will surely be fine, I promise.", "promise"),
    ("Call 0800 000 000 now.", "phone"),
])
def test_guard_rules_turn_generated_text_into_a_fallback(text: str, rule: str) -> None:
    result = respond("I can't sleep", generator=ScriptedGenerator(text), guard=OutputGuard())
    assert (result.generated, result.text, result.rule) == (False, None, rule)
    assert result.model_name == "scripted"


def test_an_approved_helpline_may_be_generated() -> None:
    result = respond("I can't sleep", generator=ScriptedGenerator("You can call 0800 000 000 to talk."),
                     guard=OutputGuard(allowlist=["0800 000 000"]))
    assert (result.generated, result.text) == (True, "You can call 0800 000 000 to talk.")


def test_the_reply_log_has_the_outcome_and_no_text(dialogue_models: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.dialogue"):
        service(dialogue_models, model="warm").reply("My secret is that I feel alone today", "en")
    records = [r for r in caplog.records if r.getMessage() == "dialogue.reply"]
    assert len(records) == 1
    assert (records[0].outcome, records[0].model) == ("generated", "warm")
    for record in caplog.records:
        values = " ".join(str(v) for v in vars(record).values())
        assert "secret" not in values and "sounds really hard" not in values


def test_the_service_reads_the_app_config(dialogue_models: Path) -> None:
    config = Config(MODELS_DIR=str(dialogue_models), DIALOGUE_ENABLED=True, DIALOGUE_MODEL="warm",
                    DIALOGUE_MAX_NEW_TOKENS=40)
    svc = DialogueService.from_config(config)
    svc.warm_up()
    started = time.monotonic()
    result = svc.reply("I feel alone today", "en")
    assert result.generated and result.text == "That sounds really hard . Thank you for sharing this with me !"
    assert time.monotonic() - started < config.DIALOGUE_TIMEOUT_S


@pytest.mark.parametrize(("text", "trimmed"), [
    ("That sounds hard. I am here to", "That sounds hard."),
    ("You matter! And I", "You matter!"),
    ("No full stop at all", ""),
    ("Is it \"hard.\" to say", "Is it \"hard.\""),
    ("Done.", "Done."),
])
def test_trim_to_sentence(text: str, trimmed: str) -> None:
    assert trim_to_sentence(text) == trimmed
