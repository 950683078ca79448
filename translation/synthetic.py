"""Build real CTranslate2 models with random (or briefly trained) weights, for tests and benches.

No model hub is reachable from our CI or from many deployment machines, yet the code paths
that load, tokenize, batch and pivot must be exercised with real files. These builders make
models of the real architectures (Marian for OPUS-MT pairs, M2M100 for NLLB-200) at any
size, convert them with CTranslate2's own converter to int8, and lay them out exactly as the
model store does: weights, sentencepiece models and a manifest.json with checksums.

Requires the conversion dependencies (torch, transformers: requirements-convert.txt); they
are imported inside the functions so the service never needs them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from translation.catalog import MANIFEST, MULTILINGUAL, PAIR
from translation.languages import to_flores


@dataclass(frozen=True)
class ModelSize:
    """Transformer dimensions; ``vocab`` pads the sentencepiece vocabulary to a real size."""

    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    ffn: int
    vocab: int | None = None
    max_positions: int = 512


TINY = ModelSize(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64)
SMALL_TRAINABLE = ModelSize(d_model=64, encoder_layers=2, decoder_layers=2, heads=4, ffn=128)
MARIAN_BASE = ModelSize(
    d_model=512, encoder_layers=6, decoder_layers=6, heads=8, ffn=2048, vocab=32000, max_positions=512
)
NLLB_600M = ModelSize(
    d_model=1024, encoder_layers=12, decoder_layers=12, heads=16, ffn=4096, vocab=256206, max_positions=1024
)


def train_sentencepiece(lines: Sequence[str], prefix: Path, vocab_size: int) -> Path:
    """A unigram sentencepiece model trained on ``lines`` (vocab_size is an upper bound)."""
    import sentencepiece

    prefix.parent.mkdir(parents=True, exist_ok=True)
    corpus = prefix.with_suffix(".txt")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size,
        character_coverage=1.0, model_type="unigram", bos_id=-1, eos_id=1, unk_id=2,
        pad_id=-1, hard_vocab_limit=False, minloglevel=2,
    )  # fmt: skip
    return prefix.with_suffix(".model")


def _pieces(spm_model: Path) -> list[str]:
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def _fill(tokens: dict[str, int], total: int) -> None:
    # Real models have 32k-256k entries; the filler pieces make the embedding and output
    # layers (and so the speed and memory) those of the real model.
    i = 0
    while len(tokens) < total:
        tokens.setdefault(f"▁filler{i}", len(tokens))
        i += 1


def write_manifest(
    model_dir: Path,
    *,
    name: str,
    kind: str,
    languages: Any,
    tokenizer: dict[str, str],
    source: str = "synthetic",
    licence: str = "CC0-1.0",
    quantization: str = "int8",
) -> dict[str, Any]:
    """Write manifest.json with a sha256 for every file in the directory."""
    import ctranslate2

    files = {}
    for path in sorted(model_dir.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            files[str(path.relative_to(model_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        "name": name, "kind": kind, "source": source, "licence": licence,
        "languages": languages, "ctranslate2_version": ctranslate2.__version__,
        "quantization": quantization, "tokenizer": tokenizer,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(), "files": files,
    }  # fmt: skip
    (model_dir / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def _convert(hf_dir: Path, out_dir: Path, quantization: str) -> None:
    from ctranslate2.converters import TransformersConverter

    TransformersConverter(str(hf_dir)).convert(str(out_dir), quantization=quantization, force=True)


class TrainingDidNotConverge(RuntimeError):
    """A toy model did not learn to reproduce its corpus within the step limit."""


def fit_pairs(model: Any, pairs: Sequence[tuple[list[int], list[int]]], pad_id: int, steps: int) -> None:
    """Fit the model to ``pairs`` of token ids for ``steps`` optimiser steps."""
    _Fitter(model, pairs, pad_id).run(steps)


class _Fitter:
    """Full-batch AdamW over a toy corpus; keeps its optimiser state between runs."""

    def __init__(self, model: Any, pairs: Sequence[tuple[list[int], list[int]]], pad_id: int):
        import torch

        def pad(rows: list[list[int]]) -> Any:
            width = max(len(r) for r in rows)
            return torch.tensor([r + [pad_id] * (width - len(r)) for r in rows])

        self.model = model
        self.pad_id = pad_id
        self.src = pad([s for s, _ in pairs])
        self.mask = (self.src != pad_id).long()
        self.labels = pad([t for _, t in pairs])
        self.labels[self.labels == pad_id] = -100
        self.optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)

    def _keep_start_embedding_zero(self) -> None:
        """The decoder starts from the <pad> embedding here and from a zero vector in
        CTranslate2 (start_from_zero_embedding), which drops the <pad> row. The row is tied to
        the output projection, whose gradient moves it away from zero, and then the first
        target word the converted model predicts is not the one trained; how far it moves
        depends on the CPU's floating point, so keep it at zero."""
        _zero_rows(self.model, self.pad_id)

    def run(self, steps: int) -> None:
        import torch

        # Tiny matrices gain nothing from threads, and on a shared CPU extra threads only
        # contend (training ran 10x slower with 2 threads on a busy 2-core machine).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self.model.train()
        try:
            for _ in range(steps):
                loss = self.model(input_ids=self.src, attention_mask=self.mask, labels=self.labels).loss
                self.optimiser.zero_grad()
                loss.backward()
                self.optimiser.step()
                self._keep_start_embedding_zero()
        finally:
            torch.set_num_threads(threads)
            self.model.eval()


def _zero_rows(model: Any, pad_id: int) -> None:
    import torch

    with torch.no_grad():
        for embedding in (model.get_input_embeddings(), model.get_decoder().embed_tokens, model.get_output_embeddings()):
            if embedding is not None:
                embedding.weight[pad_id].zero_()


def _reproduces(out_dir: Path, spm_model: Path, pairs: Sequence[tuple[str, str]], min_score: float) -> list[str]:
    """The corpus sentences the converted model does not translate exactly and confidently.

    Checked on the int8 CTranslate2 model with the service's own decoding options, since
    that model, not the float one in training, is what the tests translate with.
    """
    import math

    import ctranslate2
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    translator = ctranslate2.Translator(str(out_dir), device="cpu", inter_threads=1, intra_threads=1)
    source = [pieces + ["</s>"] for pieces in sp.encode([a for a, _ in pairs], out_type=str)]
    results = translator.translate_batch(source, beam_size=2, return_scores=True, max_decoding_length=64)
    wrong = []
    for (src, tgt), result in zip(pairs, results, strict=True):
        text = sp.decode([t for t in result.hypotheses[0] if t not in ("</s>", "<pad>", "<s>")])
        if text != tgt or math.exp(result.scores[0]) < min_score:
            wrong.append(src)
    return wrong


def build_pair_model(
    out_dir: Path,
    *,
    name: str,
    src: str,
    tgt: str,
    spm_model: Path,
    size: ModelSize = TINY,
    seed: int = 0,
    train_pairs: Sequence[tuple[str, str]] = (),
    max_train_steps: int = 2000,
    min_score: float = 0.6,
    hf_dir: Path | None = None,
    quantization: str = "int8",
) -> Path:
    """An OPUS-MT-style Marian pair model in ``out_dir`` (one shared sentencepiece model).

    With ``train_pairs`` the model is trained until its converted int8 form translates every
    pair exactly, with a score of at least ``min_score``. Floating-point kernels differ between
    CPUs (AVX2, AVX-512), so a fixed number of steps learns the corpus on one machine and not
    on another; convergence is checked instead, and TrainingDidNotConverge is raised, naming
    the sentences still wrong, when ``max_train_steps`` is reached first.
    """
    import sentencepiece
    import torch
    import transformers

    out_dir = Path(out_dir)
    work = Path(hf_dir) if hf_dir else Path(tempfile.mkdtemp(prefix="marian-"))
    work.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    for piece in ["</s>", "<unk>", *_pieces(spm_model)]:
        vocab.setdefault(piece, len(vocab))
    if size.vocab:
        _fill(vocab, size.vocab - 1)
    vocab["<pad>"] = len(vocab)
    (work / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    for side in ("source.spm", "target.spm"):
        shutil.copy(spm_model, work / side)
    tokenizer = transformers.MarianTokenizer(
        source_spm=str(work / "source.spm"), target_spm=str(work / "target.spm"), vocab=str(work / "vocab.json")
    )
    tokenizer.save_pretrained(work)
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=size.d_model, encoder_layers=size.encoder_layers,
        decoder_layers=size.decoder_layers, encoder_attention_heads=size.heads,
        decoder_attention_heads=size.heads, encoder_ffn_dim=size.ffn, decoder_ffn_dim=size.ffn,
        max_position_embeddings=size.max_positions, pad_token_id=vocab["<pad>"], eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"], dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = transformers.MarianMTModel(config)
    fitter = None
    if train_pairs:
        sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))

        def ids(text: str) -> list[int]:
            return [vocab.get(p, 1) for p in sp.encode(text, out_type=str)] + [0]

        fitter = _Fitter(model, [(ids(a), ids(b)) for a, b in train_pairs], vocab["<pad>"])
    trained = 0
    while True:
        model.save_pretrained(work)
        _convert(work, out_dir, quantization)
        if fitter is None:
            break
        wrong = _reproduces(out_dir, spm_model, train_pairs, min_score)
        if not wrong:
            break
        if trained >= max_train_steps:
            raise TrainingDidNotConverge(
                f"{name}: after {trained} steps, {len(wrong)} of {len(train_pairs)} pairs are still "
                f"not reproduced exactly: {wrong}"
            )
        step = 80 if trained < 160 else 40
        fitter.run(step)
        trained += step
    shutil.copy(spm_model, out_dir / "source.spm")
    shutil.copy(spm_model, out_dir / "target.spm")
    write_manifest(
        out_dir, name=name, kind=PAIR, languages={"src": src, "tgt": tgt},
        tokenizer={"source": "source.spm", "target": "target.spm"}, quantization=quantization,
    )  # fmt: skip
    if hf_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def build_multilingual_model(
    out_dir: Path,
    *,
    name: str,
    languages: Sequence[str],
    spm_model: Path,
    size: ModelSize = TINY,
    seed: int = 0,
    hf_dir: Path | None = None,
    quantization: str = "int8",
) -> Path:
    """An NLLB-200-style M2M100 model with FLORES-200 language tokens for ``languages``."""
    import torch
    import transformers

    out_dir = Path(out_dir)
    work = Path(hf_dir) if hf_dir else Path(tempfile.mkdtemp(prefix="nllb-"))
    work.mkdir(parents=True, exist_ok=True)
    codes = [to_flores(lang) for lang in languages]
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in _pieces(spm_model):
        vocab.setdefault(piece, len(vocab))
    if size.vocab:
        _fill(vocab, size.vocab - len(codes) - 1)  # language codes and <mask> come after
    tokenizer = transformers.NllbTokenizer(vocab=vocab, merges=[], extra_special_tokens=codes)
    tokenizer.save_pretrained(work)
    config = transformers.M2M100Config(  # type: ignore[call-arg]
        vocab_size=len(tokenizer), d_model=size.d_model, encoder_layers=size.encoder_layers,
        decoder_layers=size.decoder_layers, encoder_attention_heads=size.heads,
        decoder_attention_heads=size.heads, encoder_ffn_dim=size.ffn, decoder_ffn_dim=size.ffn,
        max_position_embeddings=size.max_positions, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, decoder_start_token_id=2, scale_embedding=True, dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0, tokenizer_class="NllbTokenizer",
    )  # fmt: skip
    torch.manual_seed(seed)
    transformers.M2M100ForConditionalGeneration(config).save_pretrained(work)
    _convert(work, out_dir, quantization)
    shutil.copy(spm_model, out_dir / "sentencepiece.bpe.model")
    write_manifest(
        out_dir, name=name, kind=MULTILINGUAL, languages=codes,
        tokenizer={"source": "sentencepiece.bpe.model", "target": "sentencepiece.bpe.model"},
        quantization=quantization,
    )  # fmt: skip
    if hf_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir
