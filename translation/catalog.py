"""Read the manifests of installed translation models (MODELS_DIR/<model>/manifest.json).

The model store writes and verifies manifests; this module only reads the keys translation
needs, so the two sides share nothing but the file format:

    {"name", "kind": "translation-multilingual" | "translation-pair" | "generator",
     "source", "licence", "languages": [...] or {"src": .., "tgt": ..},
     "ctranslate2_version", "quantization",
     "tokenizer": {"source": "<file>.model", "target": "<file>.model"},
     "files": {"relpath": "sha256"}}

The model version used in cache keys and evaluation records is derived from the file
checksums, so replacing any weight or tokenizer file changes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from translation.errors import ManifestError, UnknownLanguage
from translation.languages import base_language, is_flores, to_bcp47, to_flores

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MULTILINGUAL = "translation-multilingual"
PAIR = "translation-pair"
TRANSLATION_KINDS = (MULTILINGUAL, PAIR)
_REQUIRED = ("name", "kind", "languages", "tokenizer", "files")


@dataclass(frozen=True)
class ModelInfo:
    """What translation needs to know about one installed model directory."""

    name: str
    kind: str
    path: Path
    languages: frozenset[str]
    src: str | None
    tgt: str | None
    # FLORES-200 code (or whatever the model's language token is) per BCP-47 base language.
    language_tokens: dict[str, str]
    source_tokenizer: Path
    target_tokenizer: Path
    version: str
    quantization: str | None

    @property
    def size_bytes(self) -> int:
        """Bytes of weights on disk: the estimate of memory the model takes once loaded."""
        return sum(p.stat().st_size for p in self.path.glob("model*.bin") if p.is_file())


def model_version(files: dict[str, str]) -> str:
    """A short digest of every file checksum in a manifest.

    The same formula as the model store's, so cache keys, eval records and the store's
    listings name a model version identically.
    """
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\n".encode())
    return digest.hexdigest()[:16]


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The raw manifest of a model directory; raises ManifestError naming the problem."""
    path = Path(model_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: missing") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable ({exc})") from exc
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: not a JSON object")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ManifestError(f"{path}: missing keys {', '.join(missing)}")
    return data


def load_model_info(model_dir: Path) -> ModelInfo:
    """Parse one translation model's manifest."""
    model_dir = Path(model_dir)
    data = read_manifest(model_dir)
    kind = data["kind"]
    if kind not in TRANSLATION_KINDS:
        raise ManifestError(f"{model_dir}: kind {kind!r} is not a translation model")
    tokenizer = data["tokenizer"]
    if not isinstance(tokenizer, dict) or "source" not in tokenizer:
        raise ManifestError(f"{model_dir}: tokenizer must name a source .model file")
    src_tok = model_dir / str(tokenizer["source"])
    tgt_tok = model_dir / str(tokenizer.get("target") or tokenizer["source"])
    languages = data["languages"]
    tokens: dict[str, str] = {}
    src = tgt = None
    try:
        if kind == PAIR:
            if not isinstance(languages, dict) or not {"src", "tgt"} <= set(languages):
                raise ManifestError(f"{model_dir}: a pair model lists languages as {{src, tgt}}")
            src = base_language(to_bcp47(languages["src"]))
            tgt = base_language(to_bcp47(languages["tgt"]))
            langs = frozenset({src, tgt})
        else:
            if not isinstance(languages, list) or not languages:
                raise ManifestError(f"{model_dir}: a multilingual model lists its languages")
            for code in languages:
                tokens.setdefault(base_language(to_bcp47(code)), _language_token(code))
            langs = frozenset(tokens)
    except UnknownLanguage as exc:
        raise ManifestError(f"{model_dir}: {exc}") from exc
    return ModelInfo(
        name=str(data["name"]),
        kind=kind,
        path=model_dir,
        languages=langs,
        src=src,
        tgt=tgt,
        language_tokens=tokens,
        source_tokenizer=src_tok,
        target_tokenizer=tgt_tok,
        version=model_version(dict(data["files"])),
        quantization=data.get("quantization"),
    )


def _language_token(code: str) -> str:
    return code if is_flores(code) else to_flores(code)


def scan(models_dir: Path) -> list[ModelInfo]:
    """Every translation model under ``models_dir``; broken manifests are logged and skipped.

    One bad download must not take translation down for every other language.
    """
    found: list[ModelInfo] = []
    root = Path(models_dir)
    if not root.is_dir():
        return found
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            data = read_manifest(manifest.parent)
            if data.get("kind") not in TRANSLATION_KINDS:
                continue
            found.append(load_model_info(manifest.parent))
        except ManifestError as exc:
            log.warning("skipping model directory", extra={"model_dir": str(manifest.parent), "error": str(exc)})
    return found
