"""Turning a conversation into the model's own prompt format, and tokens back into text.

Instruct models are trained on one chat format (SmolLM2 uses ChatML: ``<|im_start|>user ...``).
The model directory carries that format as the Hugging Face chat template beside
``tokenizer.json``; rendering it with Jinja2 and tokenizing with ``tokenizers`` gives exactly the
tokens the model was trained on, without importing transformers (or torch) in the worker.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.dialogue.errors import ChatTemplateError

Message = dict[str, str]


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _read_template(path: Path) -> str | None:
    """The template in a .jinja file or a tokenizer_config.json; None when that file has none."""
    if path.suffix == ".jinja":
        return path.read_text(encoding="utf-8")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ChatTemplateError(f"{path.name} is not valid JSON: {exc}") from exc
    template = data.get("chat_template")
    if isinstance(template, list):  # named templates: [{"name": "default", "template": ...}]
        named = {entry.get("name"): entry.get("template") for entry in template}
        template = named.get("default")
    return template if isinstance(template, str) else None


def _raise(message: str) -> None:
    raise ChatTemplateError(f"chat template refused the conversation: {message}")


class ChatTokenizer:
    """The tokenizer and chat template of one generator model directory."""

    def __init__(self, model_dir: Path, roles: dict[str, str] | None = None):
        from jinja2.exceptions import TemplateError
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        roles = roles or {}
        tokenizer_file = model_dir / roles.get("source", "tokenizer.json")
        candidates = [roles.get("chat_template"), "chat_template.jinja", "tokenizer_config.json"]
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # tokenizers raises a bare Exception for unreadable files
            raise ChatTemplateError(f"cannot load {tokenizer_file}: {exc}") from exc
        config_path = model_dir / roles.get("config", "tokenizer_config.json")
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        template = None
        for name in candidates:
            if template is None and name and (model_dir / name).is_file():
                template = _read_template(model_dir / name)
        if template is None:
            raise ChatTemplateError(f"no chat template in {model_dir}; an instruct model needs one")
        self.special = {key: _token_text(config.get(key)) for key in ("bos_token", "eos_token", "unk_token",
                                                                      "pad_token")}
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                            extensions=["jinja2.ext.loopcontrols"])
        env.globals["raise_exception"] = _raise
        env.filters["tojson"] = lambda value, **kw: json.dumps(value, ensure_ascii=False, **kw)
        try:
            self._template = env.from_string(template)
        except TemplateError as exc:
            raise ChatTemplateError(f"the chat template in {model_dir} does not parse: {exc}") from exc
        vocab = self.tokenizer.get_vocab(with_added_tokens=True)
        ends = [self.special.get("eos_token"), "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"]
        self.end_tokens = [token for token in dict.fromkeys(ends) if token and token in vocab]
        if not self.end_tokens:
            raise ChatTemplateError(f"the tokenizer in {model_dir} has no end-of-turn token")

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        from jinja2.exceptions import TemplateError

        try:
            return self._template.render(messages=list(messages), add_generation_prompt=add_generation_prompt,
                                         **{k: v or "" for k, v in self.special.items()})
        except TemplateError as exc:
            raise ChatTemplateError(f"the chat template failed to render: {exc}") from exc

    def encode(self, text: str) -> list[str]:
        """Tokens as strings (what CTranslate2 takes); special tokens in ``text`` stay whole."""
        return self.tokenizer.encode(text, add_special_tokens=False).tokens

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True).strip()

    def split_static(self, messages: Sequence[Message]) -> tuple[list[str], list[str]]:
        """Split the prompt into (static system prefix, rest) so the prefix state can be cached.

        Falls back to ``([], all tokens)`` when tokenizing the parts separately would not give
        exactly the tokens of the whole, so caching never changes what the model sees.
        """
        full = self.encode(self.render(messages))
        if not messages or messages[0].get("role") != "system":
            return [], full
        text = self.render(messages)
        prefix_text = self.render(messages[:1], add_generation_prompt=False)
        if not text.startswith(prefix_text):
            return [], full
        prefix, rest = self.encode(prefix_text), self.encode(text[len(prefix_text):])
        if not prefix or prefix + rest != full:
            return [], full
        return prefix, rest
