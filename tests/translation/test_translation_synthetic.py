"""The toy-model builder trains until the converted model knows its corpus, or says it cannot."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.translation.conftest import TOY_PAIRS
from translation import synthetic


def test_training_that_cannot_converge_fails_loudly_naming_the_sentences(
    tmp_path: Path, built_models: dict[str, Path]
) -> None:
    with pytest.raises(synthetic.TrainingDidNotConverge) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # transformers suggests sacremoses while building the tokenizer
        synthetic.build_pair_model(
            tmp_path / "untrained", name="untrained", src="en", tgt="sw", spm_model=built_models["spm"],
            size=synthetic.TINY, train_pairs=TOY_PAIRS[:2], max_train_steps=0,
        )  # fmt: skip
    assert "after 0 steps" in str(caught.value)
    assert TOY_PAIRS[0][0] in str(caught.value)


def test_the_trained_fixture_reproduces_every_pair_of_its_corpus(built_models: dict[str, Path]) -> None:
    wrong = synthetic._reproduces(built_models["opus-en-sw"], built_models["spm"], TOY_PAIRS, min_score=0.6)
    assert wrong == []
