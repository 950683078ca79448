"""Fixtures for the language layer: real tiny CTranslate2 models built once per session.

No weights can be downloaded, so the session builds its own models of the real
architectures: an OPUS-MT-style Marian en->sw model briefly trained on a toy parallel corpus
(so it really translates those sentences, placeholders included), random-weight Marian pair
models, and a random-weight NLLB-style M2M100 model. They are converted with CTranslate2's
converter to int8 and laid out with manifests, exactly as installed models are.

Model directories are combined into "stores" with symlinks, so tests see different sets of
installed models without building any twice. Tests that write (eval.json) copy a store.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError

from translation import synthetic
from translation.build import TranslationSettings, build_translator
from translation.pool import LoadOptions, ModelPool, load_ctranslate2

REDIS_URL = os.environ.get("TRANSLATION_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")

# The toy corpus: what the trained en->sw model knows. Masks appear where protected spans
# (numbers, links, placeholders, keywords, glossary terms) stand in real messages.
TOY_PAIRS = [
    ("Hello, how are you today?", "Habari, hujambo leo?"),
    ("Call [0] now.", "Piga [0] sasa."),
    ("Visit [0] for help.", "Tembelea [0] upate msaada."),
    ("Hello [0], we are here for you.", "Habari [0], tuko hapa kwa ajili yako."),
    ("You are not alone.", "Hauko peke yako."),
    ("Take a deep breath.", "Vuta pumzi ndefu."),
    ("Reply [0] to stop.", "Jibu [0] kusitisha."),
    ("Talk to someone you trust.", "Ongea na mtu unayemwamini."),
]
EXTRA_CORPUS = [
    "0123456789 [0] [1] [2] {name} https://www.example.org/help +254 722 178 177 ?!.,",
    "nimechoka sana leo rafiki", "ina gajiya sosai", "je suis fatiguée", "I feel so tired today",
]  # fmt: skip
NLLB_LANGUAGES = ["en", "sw", "ha", "fr", "am", "ar", "hi"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pretrained: needs a real pretrained translation model (TRANSLATION_MODEL_DIR)")
    config.addinivalue_line("markers", "slow: takes more than ~20 s")


@pytest.fixture(scope="session")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every model, built once: name -> model directory."""
    root = tmp_path_factory.mktemp("translation-models")
    lines = [a for a, _ in TOY_PAIRS] + [b for _, b in TOY_PAIRS] + EXTRA_CORPUS
    with warnings.catch_warnings():
        # transformers warns about optional packages (sacremoses) while building tokenizers.
        warnings.simplefilter("ignore")
        spm = synthetic.train_sentencepiece(lines, root / "spm" / "toy", vocab_size=220)
        models = {
            "opus-en-sw": synthetic.build_pair_model(
                root / "opus-en-sw", name="opus-en-sw", src="en", tgt="sw", spm_model=spm,
                size=synthetic.SMALL_TRAINABLE, train_pairs=TOY_PAIRS,
            ),
            "opus-sw-en": synthetic.build_pair_model(
                root / "opus-sw-en", name="opus-sw-en", src="sw", tgt="en", spm_model=spm, seed=1
            ),
            "opus-en-ha": synthetic.build_pair_model(
                root / "opus-en-ha", name="opus-en-ha", src="en", tgt="ha", spm_model=spm, seed=2
            ),
            "nllb-tiny": synthetic.build_multilingual_model(
                root / "nllb-tiny", name="nllb-tiny", languages=NLLB_LANGUAGES, spm_model=spm, seed=3
            ),
        }  # fmt: skip
    models["spm"] = spm
    return models


def make_store(root: Path, models: dict[str, Path], names: list[str]) -> Path:
    """A MODELS_DIR holding the named models (symlinked)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).symlink_to(models[name], target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def full_store(tmp_path_factory: pytest.TempPathFactory, built_models: dict[str, Path]) -> Path:
    """The trained en->sw pair plus the multilingual model."""
    return make_store(tmp_path_factory.mktemp("full") / "models", built_models, ["opus-en-sw", "nllb-tiny"])


@pytest.fixture(scope="session")
def pairs_store(tmp_path_factory: pytest.TempPathFactory, built_models: dict[str, Path]) -> Path:
    """Pair models only: sw<->en and en->ha, so sw->ha must pivot through English."""
    return make_store(
        tmp_path_factory.mktemp("pairs") / "models", built_models, ["opus-en-sw", "opus-sw-en", "opus-en-ha"]
    )


@pytest.fixture()
def writable_store(tmp_path: Path, built_models: dict[str, Path]) -> Path:
    """A private copy (not symlinks) of the full store plus opus-sw-en, for tests that write."""
    root = tmp_path / "models"
    root.mkdir()
    for name in ("opus-en-sw", "opus-sw-en", "nllb-tiny"):
        shutil.copytree(built_models[name], root / name)
    return root


class RecordingModel:
    """A real ctranslate2.Translator that remembers every translate_batch call it serves."""

    def __init__(self, real: Any):
        self.real = real
        self.calls: list[tuple[list[list[str]], dict[str, Any]]] = []

    def translate_batch(self, source: list[list[str]], **kwargs: Any) -> Any:
        self.calls.append((source, kwargs))
        return self.real.translate_batch(source, **kwargs)


class RecordingLoader:
    """Loads real models and wraps them in RecordingModel; counts loads per model name."""

    def __init__(self) -> None:
        self.models: dict[str, RecordingModel] = {}
        self.loads: list[str] = []

    def __call__(self, path: Path, options: LoadOptions) -> RecordingModel:
        model = RecordingModel(load_ctranslate2(path, options))
        self.loads.append(path.name)
        self.models[path.name] = model
        return model

    def calls(self, name: str) -> list[tuple[list[list[str]], dict[str, Any]]]:
        return self.models[name].calls if name in self.models else []


class Stack:
    """A translator over a store, with the recording loader and pool it uses."""

    def __init__(self, store: Path, threshold: float = 0.35, budget_mb: float = 1000, **kwargs: Any):
        self.loader = RecordingLoader()
        self.pool = ModelPool(budget_mb, LoadOptions(), loader=self.loader)
        settings = TranslationSettings(confidence_threshold=threshold, memory_budget_mb=budget_mb)
        self.translator = build_translator(store, settings, pool=self.pool, **kwargs)


@pytest.fixture()
def stack_for() -> Any:
    """Factory: stack_for(store, threshold=..., budget_mb=..., cache=..., protector=...)."""
    return Stack


@pytest.fixture()
def redis5() -> Iterator[Redis]:
    """The real Redis, database 5 (this room's), flushed before and after."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
