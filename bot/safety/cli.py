"""``flask --app bot safety ...``: evaluate the gate and try it on one text.

``eval`` is what CI runs on the red-team set: it exits non-zero when crisis
recall drops below the floor, so a lexicon edit that loses recall cannot land.
``check`` is for curators editing a lexicon: it shows the level and the ids of
the entries that fired.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from bot.safety.eval import SPLITS, EvalReport, evaluate, read_cases, select
from bot.safety.exceptions import SafetyError
from bot.safety.gate import SafetyGate

DEFAULT_RECALL_FLOOR = 0.95

safety_cli = AppGroup("safety", help="Crisis gate: red-team evaluation and lexicon checks.")


def _gate(embeddings: bool | None) -> SafetyGate:
    config: dict[str, Any] = dict(current_app.config)
    services = current_app.extensions.get("tumaini.services")
    if services is not None:  # the service's app: reuse the worker's stored example vectors
        config["EMBEDDING_CACHE_DIR"] = str(services.config.embedding_cache_dir)
    if embeddings is not None:
        config["SAFETY_EMBEDDINGS"] = embeddings
    try:
        return SafetyGate.from_config(config)
    except SafetyError as exc:
        raise click.ClickException(str(exc)) from None


def _print_table(report: EvalReport) -> None:
    click.echo(f"{'language':<10} {'recall':>7} {'precision':>9} {'n':>5}")
    for lang, scores in sorted(report.per_language.items()):
        click.echo(f"{lang:<10} {scores.recall:>7.3f} {scores.precision:>9.3f} {scores.n:>5}")
    overall = report.overall
    click.echo(f"{'overall':<10} {overall.recall:>7.3f} {overall.precision:>9.3f} {overall.n:>5}")
    if report.asked_crisis or report.asked_not_crisis:
        click.echo(f"asked directly: {report.asked_crisis} crisis rows, {report.asked_not_crisis} others;"
                   f" crisis path or asked: {report.reached:.3f}")
    if report.per_category:
        click.echo(f"{'category':<22} {'recall':>7} {'detected':>8} {'precision':>9} {'n':>5}")
        for category, cat in sorted(report.per_category.items()):
            click.echo(
                f"{category:<22} {cat.recall:>7.3f} {cat.detected_rate:>8.3f} {cat.precision:>9.3f} {cat.rows:>5}"
            )
    for case in report.misses:
        click.echo(f"missed crisis: line {case.line} ({case.lang})")
    for case in report.false_alarms:
        click.echo(f"false alarm: line {case.line} ({case.lang})")
    for case, got in report.wrong_pathway:
        click.echo(f"other pathway: line {case.line} ({case.lang}) {case.category} -> {got}")


@safety_cli.command("eval")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--floor", type=float, default=None, help="Minimum overall crisis recall (default: SAFETY_RECALL_FLOOR).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--embeddings/--no-embeddings", default=None, help="Override SAFETY_EMBEDDINGS for this run.")
@click.option(
    "--split", type=click.Choice(SPLITS), default=None, help="Score only one part: tuning, learn (learnt from only) or the held-out test part."
)
def eval_command(file: str, floor: float | None, as_json: bool, embeddings: bool | None, split: str | None) -> None:
    """Recall and precision per language and category on a labelled CSV (text,lang,expected[,category,split])."""
    if floor is None:
        floor = float(current_app.config.get("SAFETY_RECALL_FLOOR", DEFAULT_RECALL_FLOOR))
    try:
        cases = select(read_cases(file), split)
    except SafetyError as exc:
        raise click.ClickException(str(exc)) from None
    report = evaluate(_gate(embeddings), cases, split)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_table(report)
    if report.overall.recall < floor:
        if not as_json:
            click.echo(f"crisis recall {report.overall.recall:.3f} is below the floor {floor:.3f}", err=True)
        raise SystemExit(1)


@safety_cli.command("check")
@click.argument("text")
@click.option("--lang", default=None, help="Language of the text (e.g. sw, hi-Latn).")
@click.option("--translated", default=None, help="Its English translation, if any.")
@click.option("--embeddings/--no-embeddings", default=None, help="Override SAFETY_EMBEDDINGS for this run.")
def check_command(text: str, lang: str | None, translated: str | None, embeddings: bool | None) -> None:
    """Show the level and the rule ids one text triggers."""
    assessment = _gate(embeddings).assess(text, lang, translated)
    click.echo(f"level: {assessment.level.label}")
    click.echo(f"categories: {', '.join(assessment.categories) or '-'}")
    click.echo(f"rules: {', '.join(assessment.rules) or '-'}")
