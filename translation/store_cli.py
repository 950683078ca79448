"""``flask --app bot models ...``: install, list, verify, bundle and import models.

Reads MODELS_DIR (and, for hub mirrors, the optional MODELS_HUB_ENDPOINT) from the app config.
Every store error becomes a one-line message and exit status 1, never a traceback: the people
running these commands are NGO operators, often at a regional server with no one to ask.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from translation.errors import TranslationError
from translation.manifest import KINDS, unexpected_files
from translation.store import ModelStore
from translation.store_registry import known_models

models_cli = AppGroup("models", help="Install, verify, bundle and import the CTranslate2 models.")

F = TypeVar("F", bound=Callable[..., Any])


def _store() -> ModelStore:
    return ModelStore(Path(current_app.config["MODELS_DIR"]), current_app.config.get("MODELS_HUB_ENDPOINT") or None)


def _friendly(func: F) -> F:
    """Turn the store's named errors into click errors (message, exit 1) instead of tracebacks."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TranslationError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


def _parse_languages(raw: str | None, kind: str | None) -> Any:
    if raw is None:
        return None
    tags = [tag.strip() for tag in raw.split(",") if tag.strip()]
    if kind == "translation-pair":
        if len(tags) != 2:
            raise click.BadParameter("a translation-pair takes two tags, source then target: en,sw",
                                     param_hint="--languages")
        return {"src": tags[0], "tgt": tags[1]}
    return tags


@models_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@_friendly
def list_models(as_json: bool) -> None:
    """Show installed models with their kind, languages, version and licence."""
    models = _store().installed()
    if as_json:
        click.echo(json.dumps([{"name": m.name, "kind": m.kind, "version": m.version, "languages": m.languages,
                                "licence": m.licence, "source": m.source, "size_bytes": m.size_bytes}
                               for m in models], ensure_ascii=False, indent=2))
        return
    if not models:
        click.echo(f"no models installed in {current_app.config['MODELS_DIR']}")
        return
    for m in models:
        click.echo(f"{m.name:28} {m.kind:25} {m.languages_label:16} {m.version}  {_mb(m.size_bytes):>9}  {m.licence}")


@models_cli.command("known")
def known() -> None:
    """Show the models that `install NAME` can fetch, with their licences."""
    for model in known_models().values():
        click.echo(f"{model.name:28} {model.kind:25} {model.licence:14} {model.note}")


@models_cli.command("verify")
@click.argument("names", nargs=-1)
@_friendly
def verify(names: tuple[str, ...]) -> None:
    """Re-hash every file of the named (default: all) models against their manifests."""
    store = _store()
    results = store.verify(list(names) or None)
    if not results:
        raise click.ClickException(f"no models to verify in {store.models_dir}")
    failed = 0
    for name, problems in results.items():
        if problems:
            failed += 1
            click.echo(f"FAILED {name}")
            for problem in problems:
                click.echo(f"  {problem}")
            continue
        click.echo(f"ok     {name} ({store.get(name).version})")
        for extra in unexpected_files(store.path(name)):
            click.echo(f"  warning: {extra} is not in the manifest (left alone, not verified)")
    if failed:
        raise click.ClickException(f"{failed} model(s) failed verification; reinstall or re-import them")


@models_cli.command("install")
@click.argument("name")
@click.option("--from-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="convert a local Hugging Face model directory instead of downloading (works offline)")
@click.option("--kind", type=click.Choice(KINDS), help="default: the registry, else read from config.json")
@click.option("--licence", help="required for models not in the registry")
@click.option("--languages", help="comma-separated BCP-47 tags; for a pair: source,target")
@click.option("--source", help="where the weights came from, recorded in the manifest")
@click.option("--replace", is_flag=True, help="overwrite an installed model of the same name")
@_friendly
def install(name: str, from_dir: Path | None, kind: str | None, licence: str | None, languages: str | None,
            source: str | None, replace: bool) -> None:
    """Download (or take from --from-dir), convert to CTranslate2 int8 and record a manifest."""
    store = _store()
    effective_kind = kind or (known_models()[name].kind if name in known_models() else None)
    if languages and effective_kind is None and from_dir is not None:
        from translation.store_convert import detect_kind

        effective_kind = detect_kind(from_dir)
    model = store.install(name, from_dir=from_dir, kind=kind, licence=licence,
                          languages=_parse_languages(languages, effective_kind), source=source, replace=replace)
    click.echo(f"installed {model.name} ({model.kind}, {model.languages_label}) version {model.version}, "
               f"{_mb(model.size_bytes)}, licence {model.licence}")


@models_cli.command("bundle")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("names", nargs=-1)
@_friendly
def bundle(out: Path, names: tuple[str, ...]) -> None:
    """Write OUT (.tar, or .tar.gz) holding the named (default: all) models and a bundle manifest."""
    info = _store().bundle(out, list(names) or None)
    for name, version in sorted(info.models.items()):
        click.echo(f"  {name} {version}")
    click.echo(f"wrote {info.path} ({_mb(info.size_bytes)})")
    click.echo(f"bundle digest: {info.digest}")
    click.echo("give the digest to the receiving server's operator separately; they can check it with "
               "`models import BUNDLE --expect-digest DIGEST`")


@models_cli.command("import")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="overwrite installed models of the same names")
@click.option("--expect-digest", help="refuse the bundle unless its digest is this one")
@_friendly
def import_(bundle_path: Path, replace: bool, expect_digest: str | None) -> None:
    """Verify every checksum in BUNDLE, then install all of its models (or none)."""
    models = _store().import_bundle(bundle_path, replace=replace, expect_digest=expect_digest)
    for model in models:
        click.echo(f"imported {model.name} ({model.kind}, {model.languages_label}) version {model.version}")
