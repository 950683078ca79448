"""Model bundles: one tar file that carries models from a connected machine to offline servers.

A bundle holds ``bundle.json`` (the bundle manifest) and, per model, ``<name>/manifest.json``,
every file that manifest lists, and ``<name>/eval.json`` when translation quality was measured
(so the MT gate travels with the model). ``bundle.json`` records a SHA-256 for every member.

Import trusts nothing in the tar: member names are checked before anything is written (no
absolute paths, no ``..``, no links or devices), every byte is hashed as it is extracted into a
hidden work directory inside MODELS_DIR, each model is then re-verified against its own
manifest, and only then are the models renamed into place. Any failure removes the work
directory, so a refused bundle installs nothing.

Checksums catch corruption and edits to model files. They do not prove who made the bundle:
anyone who can rewrite every checksum can make a consistent bundle. The bundle digest (SHA-256
of ``bundle.json``), printed when the bundle is made, is the thing to compare over a separate
channel (a phone call, a signed message); ``models import --expect-digest`` checks it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from translation import manifest as manifests
from translation.manifest import MANIFEST_NAME
from translation.store_errors import BundleError, ModelExists, StoreError
from translation.store_names import check_name

log = logging.getLogger(__name__)

BUNDLE_MANIFEST = "bundle.json"
BUNDLE_FORMAT = "tumaini-model-bundle"
BUNDLE_FORMAT_VERSION = 1
CARRIED_EXTRAS = ("eval.json",)
_CHUNK = 1 << 20
_NOTHING = "nothing was installed"


@dataclass(frozen=True)
class BundleInfo:
    """What a written bundle holds; ``digest`` is what operators compare before importing."""

    path: Path
    digest: str
    models: dict[str, str]  # name -> model version
    size_bytes: int


class ModelDirectory(Protocol):
    """What an import needs of the model store (translation.store.ModelStore): where a model
    lives, a work directory on the same filesystem, and the rename that puts a model in place."""

    def path(self, name: str) -> Path: ...
    def workdir(self, prefix: str) -> Path: ...
    def place(self, built: Path, name: str, replace: bool, workdir: Path) -> Path: ...


def _open_for_writing(path: Path, compressed: bool) -> tarfile.TarFile:
    return tarfile.open(path, "w:gz") if compressed else tarfile.open(path, "w")


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    info.mtime = 0
    return info


def create_bundle(model_dirs: list[Path], out: Path) -> BundleInfo:
    """Verify each model, then write them and a bundle manifest to ``out`` (``.tar`` or ``.tar.gz``).

    Model files are already int8 binaries, so plain ``.tar`` is the sensible default: gzip
    costs minutes of CPU on a 600 MB model and saves little.
    """
    files: dict[str, str] = {}
    members: list[tuple[Path, str]] = []
    models: dict[str, dict[str, Any]] = {}
    for model_dir in model_dirs:
        problems = manifests.verify_model_dir(model_dir)
        if problems:
            raise StoreError(f"refusing to bundle {model_dir.name}: {problems[0]} (run `models verify`)")
        manifest = manifests.read_manifest(model_dir)
        name = model_dir.name
        listed = [MANIFEST_NAME, *sorted(manifest["files"])]
        listed += [extra for extra in CARRIED_EXTRAS if (model_dir / extra).is_file() and extra not in listed]
        for rel in listed:
            arcname = f"{name}/{rel}"
            known = manifest["files"].get(rel)
            files[arcname] = known if known else manifests.sha256_file(model_dir / rel)
            members.append((model_dir / rel, arcname))
        models[name] = {"version": manifests.model_version(model_dir), "kind": manifest["kind"],
                        "licence": manifest["licence"], "source": manifest["source"],
                        "languages": manifest["languages"]}
    header = {"format": BUNDLE_FORMAT, "format_version": BUNDLE_FORMAT_VERSION,
              "created": datetime.now(UTC).replace(microsecond=0).isoformat(), "models": models, "files": files}
    header_bytes = (json.dumps(header, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with _open_for_writing(partial, out.name.endswith((".tar.gz", ".tgz"))) as tar:
        info = _normalise(tarfile.TarInfo(BUNDLE_MANIFEST))
        info.size = len(header_bytes)
        tar.addfile(info, io.BytesIO(header_bytes))
        for path, arcname in members:
            tar.add(path, arcname=arcname, recursive=False, filter=_normalise)
    os.replace(partial, out)
    digest = hashlib.sha256(header_bytes).hexdigest()
    log.info("models.bundle_written", extra={"models": sorted(models), "digest": digest})
    return BundleInfo(path=out, digest=digest, models={n: m["version"] for n, m in models.items()},
                      size_bytes=out.stat().st_size)


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name)
    if (name.startswith("/") or "\\" in name or ".." in path.parts or ":" in path.parts[0]
            or str(path) != name or name in ("", ".")):
        raise BundleError(f"bundle refused: member {name!r} would be written outside the models directory "
                          f"(path traversal); {_NOTHING}")


def _check_members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Refuse unsafe or unexpected members before anything is written; return files by name."""
    files: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        _check_member_name(member.name)
        if member.isdir():
            continue
        if not member.isfile():
            raise BundleError(f"bundle refused: member {member.name!r} is a link or special file; {_NOTHING}")
        if member.name in files:
            raise BundleError(f"bundle refused: member {member.name!r} appears twice; {_NOTHING}")
        files[member.name] = member
    return files


def _read_header(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> tuple[dict[str, Any], str]:
    if BUNDLE_MANIFEST not in members:
        raise BundleError(f"not a model bundle: {BUNDLE_MANIFEST} is missing; {_NOTHING}")
    handle = tar.extractfile(members[BUNDLE_MANIFEST])
    assert handle is not None
    raw = handle.read()
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BundleError(f"bundle refused: {BUNDLE_MANIFEST} is not valid JSON; {_NOTHING}") from None
    if not isinstance(header, dict) or header.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"not a model bundle (format is not {BUNDLE_FORMAT}); {_NOTHING}")
    if header.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise BundleError(f"bundle format version {header.get('format_version')} is not supported by this "
                          f"server (expects {BUNDLE_FORMAT_VERSION}); {_NOTHING}")
    if not isinstance(header.get("models"), dict) or not isinstance(header.get("files"), dict):
        raise BundleError(f"bundle refused: {BUNDLE_MANIFEST} lacks models or files; {_NOTHING}")
    return header, hashlib.sha256(raw).hexdigest()


def _check_listing(header: dict[str, Any], members: dict[str, tarfile.TarInfo]) -> None:
    for name in header["models"]:
        try:
            check_name(name)
        except StoreError:
            raise BundleError(f"bundle refused: model name {name!r} is not allowed; {_NOTHING}") from None
    listed = set(header["files"])
    present = set(members) - {BUNDLE_MANIFEST}
    unlisted = sorted(present - listed)
    if unlisted:
        raise BundleError(f"bundle refused: member {unlisted[0]!r} is not listed in {BUNDLE_MANIFEST} "
                          f"(tampered bundle?); {_NOTHING}")
    missing = sorted(listed - present)
    if missing:
        raise BundleError(f"bundle is incomplete: {missing[0]!r} is listed but missing; {_NOTHING}")
    for arcname in listed:
        _check_member_name(arcname)
        if arcname.split("/", 1)[0] not in header["models"]:
            raise BundleError(f"bundle refused: {arcname!r} belongs to no model in the bundle; {_NOTHING}")


def _extract_verified(tar: tarfile.TarFile, member: tarfile.TarInfo, expected: str, root: Path) -> None:
    dest = root / member.name
    if not dest.resolve().is_relative_to(root.resolve()):
        raise BundleError(f"bundle refused: member {member.name!r} escapes the work directory; {_NOTHING}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    assert source is not None
    digest = hashlib.sha256()
    with open(dest, "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected:
        raise BundleError(f"bundle is corrupted or tampered: checksum mismatch for {member.name!r}; {_NOTHING}")


def import_bundle(store: ModelDirectory, bundle: Path, *, replace: bool = False,
                  expect_digest: str | None = None) -> list[str]:
    """Install every model in ``bundle`` into ``store`` or none of them; return the model names."""
    if not bundle.is_file():
        raise BundleError(f"{bundle} does not exist")
    try:
        tar = tarfile.open(bundle, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise BundleError(f"cannot read {bundle} as a bundle ({exc}); {_NOTHING}") from None
    with tar:
        try:
            members = _check_members(tar)
            header, digest = _read_header(tar, members)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BundleError(f"bundle {bundle} is truncated or corrupted ({exc}); {_NOTHING}") from None
        if expect_digest and digest != expect_digest.strip().lower():
            raise BundleError(f"bundle digest {digest} differs from the expected {expect_digest}; {_NOTHING}")
        _check_listing(header, members)
        names = sorted(header["models"])
        if not replace:
            clashes = [n for n in names if store.path(n).exists()]
            if clashes:
                raise ModelExists(f"already installed: {', '.join(clashes)}; pass --replace to overwrite; {_NOTHING}")
        workdir = store.workdir(".import-")
        try:
            try:
                for arcname, expected in sorted(header["files"].items()):
                    _extract_verified(tar, members[arcname], expected, workdir)
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise BundleError(f"bundle {bundle} is truncated or corrupted ({exc}); {_NOTHING}") from None
            for name in names:
                _verify_extracted(workdir / name, name, header["models"][name])
            for name in names:
                store.place(workdir / name, name, replace, workdir)
        finally:
            shutil.rmtree(workdir)
    log.info("models.bundle_imported", extra={"models": names, "digest": digest})
    return names


def _verify_extracted(model_dir: Path, name: str, entry: dict[str, Any]) -> None:
    problems = manifests.verify_model_dir(model_dir)
    if problems:
        raise BundleError(f"bundle refused: model {name!r} does not match its own manifest ({problems[0]}); "
                          f"{_NOTHING}")
    manifest = manifests.read_manifest(model_dir)
    if manifest["name"] != name:
        raise BundleError(f"bundle refused: directory {name!r} holds a manifest for {manifest['name']!r}; {_NOTHING}")
    if manifests.model_version(model_dir) != entry.get("version"):
        raise BundleError(f"bundle refused: model {name!r} version differs from {BUNDLE_MANIFEST}; {_NOTHING}")
