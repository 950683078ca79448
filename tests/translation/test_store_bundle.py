"""Bundles carry models to offline servers; a damaged or hostile bundle installs nothing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.conftest import make_config
from translation.manifest import verify_model_dir, write_manifest
from translation.store import ModelStore
from translation.store_errors import BundleError, ModelExists, StoreError


def add_model(models_dir: Path, name: str, weights: bytes, kind: str = "translation-pair") -> Path:
    model = models_dir / name
    model.mkdir(parents=True)
    (model / "model.bin").write_bytes(weights)
    (model / "source.spm").write_bytes(b"spm " + name.encode())
    (model / "target.spm").write_bytes(b"spm target " + name.encode())
    languages = {"src": "en", "tgt": "sw"} if kind == "translation-pair" else ["en"]
    write_manifest(model, name=name, kind=kind, source="local:test", licence="CC-BY-4.0", languages=languages,
                   quantization="int8", tokenizer={"source": "source.spm", "target": "target.spm"})
    return model


@pytest.fixture()
def store_source(tmp_path: Path) -> ModelStore:
    store = ModelStore(tmp_path / "connected")
    add_model(store.models_dir, "opus-mt-en-sw", bytes(range(256)) * 400)
    add_model(store.models_dir, "opus-mt-sw-en", bytes(reversed(range(256))) * 300)
    (store.models_dir / "opus-mt-en-sw" / "eval.json").write_text('{"chrf": 52.0}')
    return store


@pytest.fixture()
def store_bundle(store_source: ModelStore, tmp_path: Path) -> Path:
    return store_source.bundle(tmp_path / "models.tar").path


def installed_nothing(models_dir: Path) -> bool:
    return not models_dir.exists() or list(models_dir.iterdir()) == []


def rewrite(bundle: Path, out: Path, edit) -> Path:
    """Copy a bundle member by member, letting ``edit(info, data)`` change or add members."""
    with tarfile.open(bundle) as source, tarfile.open(out, "w") as target:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            for new_info, new_data in edit(info, data):
                new_info.size = len(new_data)
                target.addfile(new_info, io.BytesIO(new_data))
    return out


def test_a_bundle_round_trip_installs_identical_models(store_source: ModelStore, store_bundle: Path,
                                                       tmp_path: Path) -> None:
    offline = ModelStore(tmp_path / "offline")
    imported = offline.import_bundle(store_bundle)
    assert [m.name for m in imported] == ["opus-mt-en-sw", "opus-mt-sw-en"]
    assert [(m.name, m.version) for m in offline.installed()] == [(m.name, m.version) for m in store_source.installed()]
    for name in ("opus-mt-en-sw", "opus-mt-sw-en"):
        assert verify_model_dir(offline.path(name)) == []
        assert (offline.path(name) / "model.bin").read_bytes() == (store_source.path(name) / "model.bin").read_bytes()
    assert json.loads((offline.path("opus-mt-en-sw") / "eval.json").read_text()) == {"chrf": 52.0}
    assert sorted(p.name for p in offline.models_dir.iterdir()) == ["opus-mt-en-sw", "opus-mt-sw-en"]


def test_a_bundle_of_named_models_holds_only_those(store_source: ModelStore, tmp_path: Path) -> None:
    info = store_source.bundle(tmp_path / "one.tar.gz", ["opus-mt-sw-en"])
    assert list(info.models) == ["opus-mt-sw-en"]
    offline = ModelStore(tmp_path / "offline")
    assert [m.name for m in offline.import_bundle(info.path)] == ["opus-mt-sw-en"]


def test_a_flipped_byte_in_a_model_file_is_refused(store_bundle: Path, tmp_path: Path) -> None:
    with tarfile.open(store_bundle) as tar:
        offset = tar.getmember("opus-mt-sw-en/model.bin").offset_data
    data = bytearray(store_bundle.read_bytes())
    data[offset + 500] ^= 0x01
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(data))
    offline = ModelStore(tmp_path / "offline")
    with pytest.raises(BundleError, match=r"corrupted or tampered: checksum mismatch for 'opus-mt-sw-en/model.bin'"):
        offline.import_bundle(tampered)
    assert installed_nothing(offline.models_dir)


def test_consistently_rewritten_checksums_still_fail_the_model_manifest(store_bundle: Path, tmp_path: Path) -> None:
    import hashlib

    def swap_weights(info: tarfile.TarInfo, data: bytes):
        if info.name == "opus-mt-en-sw/model.bin":
            data = b"evil weights"
        if info.name == "bundle.json":
            header = json.loads(data)
            header["files"]["opus-mt-en-sw/model.bin"] = hashlib.sha256(b"evil weights").hexdigest()
            data = json.dumps(header).encode()
        yield info, data

    forged = rewrite(store_bundle, tmp_path / "forged.tar", swap_weights)
    offline = ModelStore(tmp_path / "offline")
    with pytest.raises(BundleError, match="does not match its own manifest"):
        offline.import_bundle(forged)
    assert installed_nothing(offline.models_dir)


@pytest.mark.parametrize("evil_name", ["../evil.txt", "/tmp/evil.txt", "opus-mt-en-sw/../../evil.txt"])
def test_path_traversal_members_are_refused(store_bundle: Path, tmp_path: Path, evil_name: str) -> None:
    def add_evil(info: tarfile.TarInfo, data: bytes):
        yield info, data
        if info.name == "bundle.json":
            yield tarfile.TarInfo(evil_name), b"owned"

    evil = rewrite(store_bundle, tmp_path / "evil.tar", add_evil)
    offline = ModelStore(tmp_path / "deep" / "offline")
    with pytest.raises(BundleError, match="path traversal"):
        offline.import_bundle(evil)
    assert installed_nothing(offline.models_dir)
    assert not (tmp_path / "deep" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_links_in_a_bundle_are_refused(store_bundle: Path, tmp_path: Path) -> None:
    def add_link(info: tarfile.TarInfo, data: bytes):
        yield info, data
        if info.name == "bundle.json":
            link = tarfile.TarInfo("opus-mt-en-sw/passwd")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            yield link, b""

    with pytest.raises(BundleError, match="link or special file"):
        ModelStore(tmp_path / "offline").import_bundle(rewrite(store_bundle, tmp_path / "link.tar", add_link))


def test_members_not_in_the_bundle_manifest_are_refused(store_bundle: Path, tmp_path: Path) -> None:
    def add_extra(info: tarfile.TarInfo, data: bytes):
        yield info, data
        if info.name == "bundle.json":
            yield tarfile.TarInfo("opus-mt-en-sw/extra.py"), b"import os"

    offline = ModelStore(tmp_path / "offline")
    with pytest.raises(BundleError, match="not listed"):
        offline.import_bundle(rewrite(store_bundle, tmp_path / "extra.tar", add_extra))
    assert installed_nothing(offline.models_dir)


def test_a_truncated_bundle_is_refused(store_bundle: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar"
    cut.write_bytes(store_bundle.read_bytes()[: store_bundle.stat().st_size // 2])
    offline = ModelStore(tmp_path / "offline")
    with pytest.raises(BundleError):
        offline.import_bundle(cut)
    assert installed_nothing(offline.models_dir)


def test_the_expected_digest_must_match(store_source: ModelStore, tmp_path: Path) -> None:
    info = store_source.bundle(tmp_path / "models.tar")
    with pytest.raises(BundleError, match="differs from the expected"):
        ModelStore(tmp_path / "a").import_bundle(info.path, expect_digest="0" * 64)
    assert len(ModelStore(tmp_path / "b").import_bundle(info.path, expect_digest=info.digest)) == 2


def test_installed_models_are_replaced_only_when_asked(store_bundle: Path, tmp_path: Path) -> None:
    offline = ModelStore(tmp_path / "offline")
    add_model(offline.models_dir, "opus-mt-en-sw", b"older weights")
    older = offline.get("opus-mt-en-sw").version
    with pytest.raises(ModelExists, match="--replace"):
        offline.import_bundle(store_bundle)
    assert offline.get("opus-mt-en-sw").version == older
    offline.import_bundle(store_bundle, replace=True)
    assert offline.get("opus-mt-en-sw").version != older
    assert sorted(p.name for p in offline.models_dir.iterdir()) == ["opus-mt-en-sw", "opus-mt-sw-en"]


def test_a_corrupted_installed_model_is_not_bundled(store_source: ModelStore, tmp_path: Path) -> None:
    (store_source.path("opus-mt-sw-en") / "model.bin").write_bytes(b"rot")
    with pytest.raises(StoreError, match="refusing to bundle opus-mt-sw-en"):
        store_source.bundle(tmp_path / "models.tar")
    assert not (tmp_path / "models.tar").exists()


def test_the_cli_imports_and_refuses_with_a_message_not_a_traceback(store_bundle: Path, tmp_path: Path) -> None:
    from bot import create_app

    models_dir = tmp_path / "offline"
    app = create_app(make_config(tmp_path, MODELS_DIR=str(models_dir)))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["models", "import", str(store_bundle)])
    assert result.exit_code == 0, result.output
    assert "imported opus-mt-en-sw (translation-pair, en->sw)" in result.output
    again = runner.invoke(args=["models", "import", str(store_bundle)])
    assert again.exit_code == 1
    assert "Error: already installed: opus-mt-en-sw, opus-mt-sw-en; pass --replace" in again.output
    assert "Traceback" not in again.output
    listing = runner.invoke(args=["models", "list"])
    assert [line.split()[0] for line in listing.output.splitlines()] == ["opus-mt-en-sw", "opus-mt-sw-en"]
    verify = runner.invoke(args=["models", "verify"])
    assert verify.exit_code == 0
    assert "warning: eval.json is not in the manifest" in verify.output
    (models_dir / "opus-mt-sw-en" / "model.bin").write_bytes(b"rot")
    broken = runner.invoke(args=["models", "verify", "opus-mt-sw-en"])
    assert broken.exit_code == 1
    assert "FAILED opus-mt-sw-en" in broken.output and "model.bin: checksum does not match" in broken.output
