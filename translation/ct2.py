"""Translation with one CTranslate2 model: NLLB-style multilingual or OPUS-MT-style pair.

Both kinds tokenize with sentencepiece and run in one ``translate_batch`` call per batch of
texts (every sentence of every text together). They differ only in the tokens around the
text: NLLB wants ``[src_lang] pieces </s>`` and a ``[tgt_lang]`` target prefix, a Marian
pair model wants ``pieces </s>`` and nothing else.

Confidence is exp(mean log-probability) of the produced tokens (CTranslate2 normalises the
hypothesis score by its length), the minimum over a text's sentences: one garbled sentence
is enough to hold a message back.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from typing import Any

from translation.base import Translation, Translator, gate
from translation.catalog import PAIR, ModelInfo
from translation.errors import ModelLoadError, UnsupportedLanguagePair
from translation.languages import base_language
from translation.latency import TRANSLATION
from translation.pool import ModelPool
from translation.segment import Segmented, split

EOS = "</s>"
_SPECIAL = {"</s>", "<s>", "<pad>", "<unk>"}

DEFAULT_DECODE: dict[str, Any] = {
    "beam_size": 2,
    "max_input_length": 512,
    "max_decoding_length": 256,
    "repetition_penalty": 1.0,
}


class _Tokenizers:
    """Source and target sentencepiece processors, loaded on first use."""

    def __init__(self, info: ModelInfo):
        self._info = info
        self._lock = threading.Lock()
        self._source: Any = None
        self._target: Any = None

    def get(self) -> tuple[Any, Any]:
        with self._lock:
            if self._source is None:
                import sentencepiece

                try:
                    self._source = sentencepiece.SentencePieceProcessor(model_file=str(self._info.source_tokenizer))
                    if self._info.target_tokenizer == self._info.source_tokenizer:
                        self._target = self._source
                    else:
                        self._target = sentencepiece.SentencePieceProcessor(model_file=str(self._info.target_tokenizer))
                except (OSError, RuntimeError) as exc:
                    raise ModelLoadError(f"{self._info.name}: tokenizer: {exc}") from exc
            return self._source, self._target


class CT2Translator(Translator):
    """One installed model behind the Translator interface."""

    def __init__(
        self,
        info: ModelInfo,
        pool: ModelPool,
        *,
        threshold: float = 0.35,
        decode_options: Mapping[str, Any] | None = None,
    ):
        self.info = info
        self.pool = pool
        self.threshold = threshold
        self.decode_options = {**DEFAULT_DECODE, **(decode_options or {})}
        self._tokenizers = _Tokenizers(info)
        self._dropped = _SPECIAL | set(info.language_tokens.values())

    # -- interface -------------------------------------------------------------------------

    def supports(self, src: str, tgt: str) -> bool:
        """Pair models serve their one direction; multilingual ones any two listed languages."""
        s, t = base_language(src), base_language(tgt)
        if s == t:
            return False
        if self.info.kind == PAIR:
            return (s, t) == (self.info.src, self.info.tgt)
        return s in self.info.languages and t in self.info.languages

    def version(self, src: str, tgt: str) -> str:
        """The model's checksum digest; every pair of a multilingual model shares it."""
        return f"{self.info.name}@{self.info.version}"

    def route(self, src: str, tgt: str) -> list[str]:
        """Just this model."""
        return [self.info.name]

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Translate every sentence of every text in a single CTranslate2 call."""
        if not self.supports(src, tgt):
            raise UnsupportedLanguagePair(f"{self.info.name} does not translate {src}->{tgt}")
        segmented = [split(text) for text in texts]
        sentences = [s for seg in segmented for s in seg.sentences]
        if not sentences:
            return [Translation(text, 1.0, True) for text in texts]
        outputs, scores = self._run(sentences, src, tgt)
        return self._assemble(texts, segmented, outputs, scores)

    # -- internals -------------------------------------------------------------------------

    def encode(self, sentences: list[str], src: str, tgt: str) -> tuple[list[list[str]], list[list[str]] | None]:
        """Source token lists and target prefixes exactly as the model receives them."""
        source_sp, _ = self._tokenizers.get()
        pieces = source_sp.encode(sentences, out_type=str)
        if self.info.kind == PAIR:
            return [p + [EOS] for p in pieces], None
        src_token = self.info.language_tokens[base_language(src)]
        tgt_token = self.info.language_tokens[base_language(tgt)]
        return [[src_token, *p, EOS] for p in pieces], [[tgt_token] for _ in pieces]

    def decode(self, tokens: list[str]) -> str:
        """Text from output tokens, without language and special tokens."""
        _, target_sp = self._tokenizers.get()
        return target_sp.decode([t for t in tokens if t not in self._dropped])

    def _run(self, sentences: list[str], src: str, tgt: str) -> tuple[list[str], list[float]]:
        source, prefix = self.encode(sentences, src, tgt)
        model = self.pool.get(self.info.path, self.info.size_bytes, self.info)
        options = dict(self.decode_options)
        # A degenerate model can repeat a token until max_decoding_length; a real
        # translation is rarely three times longer than its source, so stop there.
        longest = max(len(tokens) for tokens in source)
        limit = max(3 * longest + 16, options.get("min_decoding_length", 0))
        options["max_decoding_length"] = min(options["max_decoding_length"], limit)
        if prefix is not None:
            options["target_prefix"] = prefix
        started = time.perf_counter()
        results = model.translate_batch(source, return_scores=True, **options)
        TRANSLATION.observe(self.info.name, time.perf_counter() - started)
        outputs, scores = [], []
        for result in results:
            outputs.append(self.decode(result.hypotheses[0]))
            scores.append(math.exp(result.scores[0]) if result.scores else 0.0)
        return outputs, scores

    def _assemble(
        self,
        texts: list[str],
        segmented: list[Segmented],
        outputs: list[str],
        scores: list[float],
    ) -> list[Translation]:
        results: list[Translation] = []
        pos = 0
        for text, seg in zip(texts, segmented, strict=True):
            n = len(seg.sentences)
            if n == 0:
                results.append(Translation(text, 1.0, True))
                continue
            confidence = min(scores[pos : pos + n])
            results.append(gate(seg.join(outputs[pos : pos + n]), confidence, self.threshold))
            pos += n
        return results
