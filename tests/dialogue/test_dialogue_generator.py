"""The CTranslate2 generator: lazy loading, bounded generation, deadlines, verification, forks."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from bot.dialogue.errors import DialogueUnavailable
from bot.dialogue.generator import Ct2ChatGenerator
from bot.dialogue.prompt import build_messages
from translation.manifest import model_version, write_manifest

MESSAGES = build_messages("I feel alone since I lost my job")


def far() -> float:
    return time.monotonic() + 30


def test_nothing_loads_until_the_first_reply(warm_text: str, dialogue_models: Path) -> None:
    generator = Ct2ChatGenerator(dialogue_models / "warm")
    assert generator.version == ""
    result = generator.generate(MESSAGES, max_new_tokens=40, deadline=far())
    assert result.text == warm_text
    assert result.stop_reason == "end"
    assert generator.name == "warm"
    assert generator.version == model_version(dialogue_models / "warm")


def test_the_chat_template_from_the_model_dir_shapes_the_prompt(dialogue_models: Path) -> None:
    chat = Ct2ChatGenerator(dialogue_models / "warm").chat
    prompt = chat.render(MESSAGES)
    assert prompt.startswith("<|im_start|>system\nYou are Tumaini")
    assert prompt.endswith("<|im_start|>user\nI feel alone since I lost my job<|im_end|>\n<|im_start|>assistant\n")
    static, rest = chat.split_static(MESSAGES)
    assert static[0] == "<|im_start|>" and rest[-1] == "assistant"
    assert static + rest == chat.encode(prompt)


@pytest.mark.parametrize("budget", [1, 5, 17])
def test_generation_never_exceeds_the_token_budget(dialogue_models: Path, budget: int) -> None:
    looping = Ct2ChatGenerator(dialogue_models / "loop", no_repeat_ngram_size=0)
    result = looping.generate(MESSAGES, max_new_tokens=budget, deadline=far())
    assert (result.tokens, result.stop_reason) == (budget, "max_tokens")
    assert len(result.text.split()) == budget


@pytest.mark.parametrize("budget", [3, 12, 40])
def test_random_weights_stay_within_budget_too(dialogue_models: Path, budget: int) -> None:
    result = Ct2ChatGenerator(dialogue_models / "random").generate(MESSAGES, max_new_tokens=budget, deadline=far())
    assert result.tokens <= budget
    assert result.stop_reason in {"end", "max_tokens"}


def test_the_deadline_stops_a_model_that_would_go_on(dialogue_models: Path) -> None:
    looping = Ct2ChatGenerator(dialogue_models / "loop", no_repeat_ngram_size=0)
    looping.load()
    started = time.monotonic()
    result = looping.generate(MESSAGES, max_new_tokens=1_000_000, deadline=started + 0.3)
    elapsed = time.monotonic() - started
    assert result.stop_reason == "timeout"
    assert 0.3 <= elapsed < 1.5
    assert result.tokens > 10


def test_a_deadline_already_past_generates_nothing(dialogue_models: Path) -> None:
    result = Ct2ChatGenerator(dialogue_models / "warm").generate(MESSAGES, max_new_tokens=40,
                                                                 deadline=time.monotonic() - 1)
    assert (result.text, result.tokens, result.stop_reason) == ("", 0, "timeout")


def test_the_sentence_budget_keeps_replies_short(dialogue_models: Path) -> None:
    result = Ct2ChatGenerator(dialogue_models / "warm").generate(MESSAGES, max_new_tokens=40, deadline=far(),
                                                                 max_sentences=1)
    assert (result.text, result.stop_reason) == ("That sounds really hard .", "sentences")


def test_a_tampered_model_is_refused_at_load(dialogue_models: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(dialogue_models / "warm", tmp_path / "warm")
    weights = bytearray((copy / "model.bin").read_bytes())
    weights[len(weights) // 2] ^= 0xFF
    (copy / "model.bin").write_bytes(bytes(weights))
    with pytest.raises(DialogueUnavailable, match="failed verification: model.bin"):
        Ct2ChatGenerator(copy).load()


def test_a_missing_model_says_it_is_not_installed(tmp_path: Path) -> None:
    with pytest.raises(DialogueUnavailable, match="not installed"):
        Ct2ChatGenerator(tmp_path / "smollm2-135m-instruct").load()


def test_a_translation_model_is_not_taken_for_a_generator(dialogue_models: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(dialogue_models / "warm", tmp_path / "pair")
    (copy / "manifest.json").unlink()
    write_manifest(copy, name="pair", kind="translation-pair", source="local:test", licence="CC-BY-4.0",
                   languages={"src": "en", "tgt": "sw"}, quantization="int8",
                   tokenizer={"source": "tokenizer.json", "target": "tokenizer.json"})
    with pytest.raises(DialogueUnavailable, match="not a generator"):
        Ct2ChatGenerator(copy).load()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_worker_reloads_instead_of_using_the_parents_model(warm_text: str, dialogue_models: Path) -> None:
    generator = Ct2ChatGenerator(dialogue_models / "warm")
    generator.load()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, then leave without running pytest's teardown
        code = 1
        try:
            text = generator.generate(MESSAGES, max_new_tokens=40, deadline=time.monotonic() + 20).text
            os.write(write_end, text.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked worker hung using its parent's model")
    answer = os.read(read_end, 4096).decode()
    os.close(read_end)
    assert os.WEXITSTATUS(status) == 0
    assert answer == warm_text
    assert generator.generate(MESSAGES, max_new_tokens=40, deadline=far()).text == warm_text


def test_a_chat_template_kept_in_tokenizer_config_is_found(dialogue_models: Path, tmp_path: Path) -> None:
    import json

    from bot.dialogue.chat import ChatTokenizer
    from bot.dialogue.errors import ChatTemplateError

    copy = shutil.copytree(dialogue_models / "warm", tmp_path / "older")
    config = json.loads((copy / "tokenizer_config.json").read_text())
    config["chat_template"] = (copy / "chat_template.jinja").read_text()
    (copy / "tokenizer_config.json").write_text(json.dumps(config))
    (copy / "chat_template.jinja").unlink()
    chat = ChatTokenizer(copy)
    assert chat.render(MESSAGES) == Ct2ChatGenerator(dialogue_models / "warm").chat.render(MESSAGES)
    del config["chat_template"]
    (copy / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ChatTemplateError, match="no chat template"):
        ChatTokenizer(copy)
