"""The dialogue model: a CTranslate2 int8 Generator, loaded once per worker process.

Loading happens on first use, never at import; load it in the worker process itself. The
CTranslate2 thread pool does not survive ``fork()``, so a generator that finds itself in a
forked child leaves the parent's copy untouched and loads its own. Generation streams tokens and stops at whichever comes
first: the end-of-turn token, the token budget, the sentence budget or the wall-clock deadline.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.dialogue.chat import ChatTokenizer, Message
from bot.dialogue.errors import DialogueUnavailable
from translation.latency import LatencyRecorder

log = logging.getLogger(__name__)

_LOADED: weakref.WeakSet[Ct2ChatGenerator] = weakref.WeakSet()
# Wall-clock time per reply generated (prompt pass and streaming), by model name.
GENERATION = LatencyRecorder()
_ATEXIT_REGISTERED = False

_SENTENCE_END = re.compile(r"[.!?…](?:[\"')\]]*)(?=\s|$)")


@dataclass(frozen=True)
class Generation:
    """What the model produced and why it stopped: "end", "sentences", "max_tokens" or "timeout"."""

    text: str
    tokens: int
    stop_reason: str
    elapsed_s: float


class TextGenerator(Protocol):
    """Anything that turns a conversation into a reply; tests hand in small fakes."""

    name: str
    version: str

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int, deadline: float,
                 max_sentences: int = 0) -> Generation: ...


def _release_all() -> None:
    """Free CTranslate2 models before interpreter shutdown.

    A Generator that has streamed tokens and is still alive while Python finalises aborts the
    process ("terminate called without an active exception"), which would turn every clean
    worker exit into a crash report.
    """
    for generator in list(_LOADED):
        generator.unload()


def _abandon(model: Any) -> None:
    """Keep a parent's model alive forever in a forked child.

    Its thread pool did not survive the fork: using it, or even destroying it, hangs the
    child. One extra reference that is never released means it is never touched again; the
    memory is shared copy-on-write with the parent and costs the child nothing.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(model))


def loaded_generators() -> list[Ct2ChatGenerator]:
    """The generators holding a model in this process (for the worker's heartbeat)."""
    return [generator for generator in list(_LOADED) if generator.loaded]


def count_sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


class Ct2ChatGenerator:
    """SmolLM2 (or another instruct model) from a model-store directory, on CPU in int8.

    Decoding is greedy with a mild repetition penalty: replies are reproducible for audits and
    tests, and small models loop less.
    """

    def __init__(self, model_dir: Path, *, threads: int = 1, compute_type: str = "int8",
                 repetition_penalty: float = 1.1, no_repeat_ngram_size: int = 4, verify: bool = True):
        self.model_dir = Path(model_dir)
        self.threads = threads
        self.compute_type = compute_type
        self.repetition_penalty = repetition_penalty
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.verify = verify
        self.name = self.model_dir.name
        self.version = ""
        self.quantization: str | None = None  # as converted (the manifest's), beside the compute type
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._model: Any = None
        self._chat: ChatTokenizer | None = None

    def load(self) -> None:
        """Load (or reload after a fork). Workers call this at start so the first reply is not slow."""
        with self._lock:
            if self._model is not None and self._pid == os.getpid():
                return
            if self._model is not None:
                log.warning("dialogue.reload_after_fork", extra={"model": self.name})
                _abandon(self._model)
                self._model = None
            self._load_locked()

    def _load_locked(self) -> None:
        from translation.errors import ManifestError
        from translation.manifest import model_version, read_manifest, verify_model_dir

        started = time.monotonic()
        try:
            manifest = read_manifest(self.model_dir)
        except ManifestError as exc:
            raise DialogueUnavailable(f"dialogue model {self.name!r} is not installed: {exc}") from exc
        if manifest["kind"] != "generator":
            raise DialogueUnavailable(f"model {self.name!r} is a {manifest['kind']}, not a generator")
        if self.verify:
            problems = verify_model_dir(self.model_dir)
            if problems:
                raise DialogueUnavailable(f"dialogue model {self.name!r} failed verification: {problems[0]}")
        import ctranslate2

        self._chat = ChatTokenizer(self.model_dir, manifest.get("tokenizer"))
        try:
            self._model = ctranslate2.Generator(str(self.model_dir), device="cpu", compute_type=self.compute_type,
                                                intra_threads=self.threads, inter_threads=1)
        except (RuntimeError, ValueError, OSError) as exc:
            raise DialogueUnavailable(f"CTranslate2 cannot load {self.name!r}: {exc}") from exc
        self.name = manifest["name"]
        self.version = model_version(self.model_dir)
        self.quantization = manifest.get("quantization")
        self._pid = os.getpid()
        global _ATEXIT_REGISTERED
        if not _ATEXIT_REGISTERED:
            atexit.register(_release_all)
            _ATEXIT_REGISTERED = True
        _LOADED.add(self)
        log.info("dialogue.model_loaded", extra={"model": self.name, "version": self.version,
                                                 "threads": self.threads,
                                                 "load_s": round(time.monotonic() - started, 3)})

    def unload(self) -> None:
        """Drop the model (memory back to the OS); the next ``generate`` loads it again."""
        with self._lock:
            if self._model is not None and self._pid != os.getpid():
                _abandon(self._model)
            self._model = None
            self._pid = None

    @property
    def loaded(self) -> bool:
        """Whether this process holds the model now (a forked child's inherited copy does not count)."""
        return self._model is not None and self._pid == os.getpid()

    @property
    def chat(self) -> ChatTokenizer:
        self.load()
        assert self._chat is not None
        return self._chat

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int, deadline: float,
                 max_sentences: int = 0) -> Generation:
        """Stream tokens until end of turn, ``max_new_tokens``, ``max_sentences`` or ``deadline``.

        ``deadline`` is a ``time.monotonic()`` instant. It is checked after every token (and
        by CTranslate2's own callback, so decoding stops at once); the prompt's forward pass
        cannot be interrupted, so a reply can overrun the deadline by that pass only.
        """
        started = time.monotonic()
        self.load()
        chat = self.chat
        static, prompt = chat.split_static(messages)
        ids: list[int] = []
        stop_reason = "max_tokens"
        if time.monotonic() >= deadline:
            return Generation("", 0, "timeout", time.monotonic() - started)

        def past_deadline(_step: Any) -> bool:
            return time.monotonic() >= deadline

        steps = self._model.generate_tokens(
            prompt, max_length=max_new_tokens, sampling_topk=1, end_token=chat.end_tokens,
            repetition_penalty=self.repetition_penalty, no_repeat_ngram_size=self.no_repeat_ngram_size,
            static_prompt=static or None, callback=past_deadline)
        for step in steps:
            if step.token in chat.end_tokens:
                stop_reason = "end"
                break
            ids.append(step.token_id)
            if time.monotonic() >= deadline:
                stop_reason = "timeout"
                break
            if max_sentences and count_sentences(chat.decode(ids)) >= max_sentences:
                stop_reason = "sentences"
                break
            if len(ids) >= max_new_tokens:
                break
        else:
            if time.monotonic() >= deadline:
                stop_reason = "timeout"
            elif len(ids) < max_new_tokens:
                stop_reason = "end"
        steps.close()
        elapsed = time.monotonic() - started
        GENERATION.observe(self.name, elapsed)
        return Generation(chat.decode(ids), len(ids), stop_reason, elapsed)
