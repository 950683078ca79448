"""The manifest every model directory carries, and the checks built on it.

Models travel from a connected machine to offline regional servers on USB sticks and slow
links. The manifest (``manifest.json``) records where a model came from, its licence, the
languages it serves and a SHA-256 for every file, so a server can prove that what it loads is
what was prepared, and the translation cache can key entries on the exact weights in use.

Format::

    {"name": "opus-mt-en-sw", "kind": "translation-pair",
     "source": "Helsinki-NLP/opus-mt-en-sw", "licence": "CC-BY-4.0",
     "languages": {"src": "en", "tgt": "sw"},          # a list for multilingual and generator
     "ctranslate2_version": "4.8.5", "quantization": "int8",
     "tokenizer": {"source": "source.spm", "target": "target.spm"},
     "created": "2026-01-01T00:00:00+00:00",
     "files": {"model.bin": "<sha256>", ...}}

Verification policy: a file listed in the manifest that is missing or whose checksum differs is
a problem (the model must not be used). A file present in the directory but not listed is *not*
a problem: servers write their own files beside a model (``eval.json`` from ``translate eval``,
for instance). ``unexpected_files`` lists them so ``models verify`` can show them as warnings.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from translation.errors import ManifestError

MANIFEST_NAME = "manifest.json"
KINDS = ("translation-multilingual", "translation-pair", "generator")
REQUIRED_KEYS = ("name", "kind", "source", "licence", "languages", "ctranslate2_version", "quantization",
                 "tokenizer", "created", "files")
_CHUNK = 1 << 20

__all__ = ["MANIFEST_NAME", "KINDS", "ManifestError", "Problem", "sha256_file", "hash_files", "write_manifest",
           "read_manifest", "verify_model_dir", "unexpected_files", "model_version"]


@dataclass(frozen=True)
class Problem:
    """One reason a model directory cannot be trusted; ``path`` is relative to the model dir."""

    code: str  # "manifest", "missing" or "checksum"
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks so a 600 MB model does not sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _relative_files(model_dir: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(model_dir):
        dirs.sort()
        for name in sorted(files):
            rel = Path(root, name).relative_to(model_dir).as_posix()
            if rel != MANIFEST_NAME:
                found.append(rel)
    return found


def hash_files(model_dir: Path) -> dict[str, str]:
    """SHA-256 of every file under ``model_dir`` except the manifest itself, by POSIX relative path."""
    model_dir = Path(model_dir)
    return {rel: sha256_file(model_dir / rel) for rel in _relative_files(model_dir)}


def _check_meta(meta: dict[str, Any], where: str) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise ManifestError(f"{where} lacks required key(s): {', '.join(missing)}")
    if meta["kind"] not in KINDS:
        raise ManifestError(f"{where} has kind {meta['kind']!r}; expected one of {', '.join(KINDS)}")
    languages = meta["languages"]
    if meta["kind"] == "translation-pair":
        if not (isinstance(languages, dict) and {"src", "tgt"} <= set(languages)):
            raise ManifestError(f"{where}: a translation-pair needs languages {{'src': .., 'tgt': ..}}")
    elif not (isinstance(languages, list) and languages):
        raise ManifestError(f"{where}: languages must be a non-empty list for kind {meta['kind']}")
    if not isinstance(meta["files"], dict) or not meta["files"]:
        raise ManifestError(f"{where}: files must map relative paths to SHA-256 checksums")
    if not isinstance(meta["tokenizer"], dict):
        raise ManifestError(f"{where}: tokenizer must map roles to file names")


def write_manifest(model_dir: Path, **meta: Any) -> dict[str, Any]:
    """Hash every file in ``model_dir`` and write ``manifest.json`` beside them.

    ``created`` defaults to now (UTC) and ``ctranslate2_version`` to the installed CTranslate2.
    The file is written to a temporary name and renamed, so a crash never leaves half a manifest.
    """
    model_dir = Path(model_dir)
    manifest = dict(meta)
    manifest.setdefault("created", datetime.now(UTC).replace(microsecond=0).isoformat())
    if "ctranslate2_version" not in manifest:
        import ctranslate2

        manifest["ctranslate2_version"] = ctranslate2.__version__
    manifest["files"] = hash_files(model_dir)
    _check_meta(manifest, f"manifest for {model_dir.name}")
    for role, name in manifest["tokenizer"].items():
        if name not in manifest["files"]:
            raise ManifestError(f"tokenizer file {name!r} ({role}) is not in {model_dir}")
    tmp = model_dir / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, model_dir / MANIFEST_NAME)
    return manifest


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """Parse and check the shape of a model directory's manifest; raise ManifestError if unusable."""
    path = Path(model_dir) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} cannot be read: {exc}") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path} is not a JSON object")
    _check_meta(manifest, str(path))
    return manifest


def _safe_relpath(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts and "\\" not in rel


def verify_model_dir(model_dir: Path) -> list[Problem]:
    """Re-hash every listed file; return the problems (empty means the model can be trusted).

    Extra files are not problems (see the module docstring); a manifest that lists a path
    escaping the directory is, so a hostile manifest cannot make us hash files elsewhere.
    """
    model_dir = Path(model_dir)
    try:
        manifest = read_manifest(model_dir)
    except ManifestError as exc:
        return [Problem("manifest", MANIFEST_NAME, str(exc))]
    problems = []
    for rel, expected in sorted(manifest["files"].items()):
        if not _safe_relpath(rel):
            problems.append(Problem("manifest", rel, "path escapes the model directory"))
            continue
        path = model_dir / rel
        if not path.is_file():
            problems.append(Problem("missing", rel, "listed in the manifest but missing"))
        elif sha256_file(path) != expected:
            problems.append(Problem("checksum", rel, "checksum does not match the manifest"))
    return problems


def unexpected_files(model_dir: Path) -> list[str]:
    """Files present in ``model_dir`` that the manifest does not list (warnings, not errors)."""
    model_dir = Path(model_dir)
    listed = set(read_manifest(model_dir)["files"])
    return [rel for rel in _relative_files(model_dir) if rel not in listed and not rel.endswith(".tmp")]


def model_version(model_dir: Path) -> str:
    """A short, stable id of the exact weights and tokenizer files, for cache keys and audit logs.

    Derived from the manifest's checksums only (no re-hashing), so it is cheap enough to call
    per request; two directories with identical files share a version whatever their names.
    """
    files = read_manifest(model_dir)["files"]
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(f"{rel}\0{files[rel]}\n".encode())
    return digest.hexdigest()[:16]
