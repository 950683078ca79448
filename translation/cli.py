"""``flask --app bot langid ...`` and ``flask --app bot translate ...``.

Both groups take either free text or a subcommand as their first argument:

    flask --app bot langid "nimechoka sana"
    flask --app bot langid eval FILE.csv [--json]
    flask --app bot translate --to sw "You are not alone."
    flask --app bot translate eval FILE.tsv --src en --tgt sw [--json]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from translation import gate
from translation.app import app_translator
from translation.errors import EvalFileError, TranslationError, UnknownLanguage
from translation.langid import detect
from translation.langid_eval import evaluate, read_eval_csv
from translation.languages import native_name, normalize


class TextOrCommandGroup(AppGroup):
    """A group whose first argument is a subcommand name or, failing that, free text.

    The text form is handled by the ``default_command`` subcommand, so its options
    (``--to``) work as written before or after the text.
    """

    def __init__(self, *args: Any, default_command: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.default_command = default_command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Prefix the default subcommand unless a subcommand or --help comes first."""
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


langid_cli = TextOrCommandGroup("langid", default_command="detect", help="Detect the language of a text.")
translate_cli = TextOrCommandGroup("translate", default_command="text", help="Machine translation.")


@langid_cli.command("detect")
@click.argument("text")
def langid_detect(text: str) -> None:
    """Print the language code and the confidence of TEXT."""
    detection = detect(text)
    note = "" if detection.reliable else "\t(unreliable)"
    click.echo(f"{detection.lang}\t{detection.confidence:.2f}{note}")


@langid_cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def langid_eval(file: Path, as_json: bool) -> None:
    """Accuracy per language and overall on a CSV with columns text,lang."""
    try:
        report = evaluate(read_eval_csv(file))
    except EvalFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    for lang, row in report.as_dict()["per_language"].items():
        click.echo(f"{lang:<8}{native_name(lang):<16}{row['accuracy']:.3f}  (n={row['n']})")
    click.echo(f"{'overall':<24}{report.overall:.3f}  (n={sum(report.total.values())})")


@translate_cli.command("text")
@click.option("--to", "tgt", required=True, help="Target language (BCP-47).")
@click.option("--from", "src", default=None, help="Source language; detected when omitted.")
@click.argument("text")
def translate_text(tgt: str, src: str | None, text: str) -> None:
    """Translate TEXT; the translation goes to stdout, its confidence to stderr."""
    try:
        target = normalize(tgt)
        if src is None:
            detection = detect(text)
            if not detection.reliable:
                raise click.ClickException("cannot tell the language of this text; pass --from")
            source = detection.lang
        else:
            source = normalize(src)
        result = app_translator().translate(text, source, target)
    except TranslationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.text)
    verdict = "ok" if result.ok else f"NOT OK: {result.reason}"
    click.echo(f"[{source}->{target} confidence {result.confidence:.2f} {verdict}]", err=True)


@translate_cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--src", required=True, help="Language of the first column.")
@click.option("--tgt", required=True, help="Language of the reference column.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-record", is_flag=True, help="Do not store the result in eval.json.")
def translate_eval(file: Path, src: str, tgt: str, as_json: bool, no_record: bool) -> None:
    """Score a parallel TSV (source<TAB>reference) with chrF++ and BLEU and apply the gate."""
    models_dir = Path(current_app.config["MODELS_DIR"])
    threshold = float(current_app.config.get("TRANSLATION_MT_GATE_CHRF", gate.DEFAULT_GATE_CHRF))
    try:
        source, target = normalize(src), normalize(tgt)
        sources, references = gate.read_parallel_tsv(file)
        result = gate.evaluate(app_translator(), sources, references, source, target, threshold, models_dir=models_dir)
    except (EvalFileError, UnknownLanguage, TranslationError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not no_record:
        gate.record(models_dir, result)
    if as_json:
        click.echo(json.dumps({
            "src": result.src, "tgt": result.tgt, "chrf": result.chrf, "bleu": result.bleu,
            "n": result.n, "gate_chrf": result.gate_chrf, "passed": result.passed,
            "status": result.status, "models": result.models,
        }))  # fmt: skip
        return
    click.echo(f"{result.src}->{result.tgt}  n={result.n}  models={','.join(result.models) or '-'}")
    click.echo(f"chrF++ {result.chrf:.2f}")
    click.echo(f"BLEU   {result.bleu:.2f}")
    verb = "passes" if result.passed else "does not pass"
    click.echo(f"{result.tgt} {verb} the gate (chrF++ >= {threshold:g}): {result.status}")
