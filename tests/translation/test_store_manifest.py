"""Model manifests: checksums written, problems found, versions that change with the weights."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from translation.errors import ManifestError
from translation.manifest import (
    model_version,
    read_manifest,
    unexpected_files,
    verify_model_dir,
    write_manifest,
)

PAIR = dict(kind="translation-pair", source="Helsinki-NLP/opus-mt-en-sw", licence="CC-BY-4.0",
            languages={"src": "en", "tgt": "sw"}, quantization="int8",
            tokenizer={"source": "source.spm", "target": "target.spm"})


def make_model(root: Path, name: str = "opus-mt-en-sw", weights: bytes = b"\x00weights" * 100) -> Path:
    model = root / name
    (model / "sub").mkdir(parents=True)
    (model / "model.bin").write_bytes(weights)
    (model / "source.spm").write_bytes(b"source pieces")
    (model / "target.spm").write_bytes(b"target pieces")
    (model / "sub" / "config.json").write_text("{}")
    write_manifest(model, name=name, **PAIR)
    return model


def test_the_manifest_records_metadata_and_a_sha256_per_file(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["files"] == {
        rel: hashlib.sha256((model / rel).read_bytes()).hexdigest()
        for rel in ("model.bin", "source.spm", "sub/config.json", "target.spm")
    }
    assert manifest["languages"] == {"src": "en", "tgt": "sw"}
    import ctranslate2

    assert manifest["ctranslate2_version"] == ctranslate2.__version__
    assert manifest["created"].endswith("+00:00")
    assert read_manifest(model) == manifest


def test_a_sound_model_has_no_problems(tmp_path: Path) -> None:
    assert verify_model_dir(make_model(tmp_path)) == []


def test_a_changed_byte_is_a_checksum_problem(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    data = bytearray((model / "model.bin").read_bytes())
    data[10] ^= 1
    (model / "model.bin").write_bytes(bytes(data))
    assert [(p.code, p.path) for p in verify_model_dir(model)] == [("checksum", "model.bin")]


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    (model / "target.spm").unlink()
    assert [(p.code, p.path) for p in verify_model_dir(model)] == [("missing", "target.spm")]


def test_extra_files_are_warnings_not_problems(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    (model / "eval.json").write_text('{"chrf": 51.2}')
    assert verify_model_dir(model) == []
    assert unexpected_files(model) == ["eval.json"]


@pytest.mark.parametrize("content", [None, "not json", "[]", '{"name": "x"}'])
def test_a_missing_or_broken_manifest_is_a_problem(tmp_path: Path, content: str | None) -> None:
    model = make_model(tmp_path)
    if content is None:
        (model / "manifest.json").unlink()
    else:
        (model / "manifest.json").write_text(content)
    problems = verify_model_dir(model)
    assert [p.code for p in problems] == ["manifest"]
    with pytest.raises(ManifestError):
        read_manifest(model)


def test_a_manifest_cannot_point_outside_its_directory(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    (tmp_path / "secret").write_text("x")
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["files"]["../secret"] = hashlib.sha256(b"x").hexdigest()
    (model / "manifest.json").write_text(json.dumps(manifest))
    assert [(p.code, p.path) for p in verify_model_dir(model)] == [("manifest", "../secret")]


def test_the_version_follows_the_files_not_the_name(tmp_path: Path) -> None:
    first = make_model(tmp_path / "a")
    same = make_model(tmp_path / "b", name="renamed")
    other = make_model(tmp_path / "c", weights=b"other weights")
    assert model_version(first) == model_version(same)
    assert model_version(first) != model_version(other)
    assert len(model_version(first)) == 16


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "translator"}, "kind"),
    ({"languages": ["en", "sw"]}, "translation-pair needs languages"),
    ({"tokenizer": {"source": "missing.spm", "target": "target.spm"}}, "missing.spm"),
])
def test_write_manifest_refuses_bad_metadata(tmp_path: Path, change: dict, message: str) -> None:
    model = make_model(tmp_path)
    with pytest.raises(ManifestError, match=message):
        write_manifest(model, name="opus-mt-en-sw", **{**PAIR, **change})


def test_write_manifest_requires_the_licence(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    meta = {k: v for k, v in PAIR.items() if k != "licence"}
    with pytest.raises(ManifestError, match="licence"):
        write_manifest(model, name="opus-mt-en-sw", **meta)
