"""``flask --app bot content ...``: validate, import and export the content library.

The library folder is ``CONTENT_DIR`` from the app config (default: the starter library
shipped in content/library).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from content.errors import ContentError, ImportRejected
from content.loader import load_library
from content.problems import Report
from content.schema import Library, Status
from content.transfer import FORMATS, export_library, import_into
from content.validate import validate

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent / "library"

# The web app's check of ``--approved-by``: (email) -> record(detail), raising ImportRejected
# unless the email is an active admin's; record(detail) writes the audit event.
IMPORT_APPROVER = "tumaini.import_approver"
content_cli = AppGroup("content", help="Validate, import and export the content library.")


def content_dir() -> Path:
    """The configured library folder."""
    return Path(current_app.config.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR)


def _fail(error: ContentError) -> None:
    for problem in error.problems:
        click.echo(problem, err=True)
    click.echo(str(error), err=True)
    raise SystemExit(1)


def _show(report: Report, quiet_warnings: bool = False) -> None:
    for problem in report.problems:
        if problem.severity == "error" or not quiet_warnings:
            click.echo(str(problem), err=problem.severity == "error")


def _counts(library: Library) -> str:
    # coverage: the share of the source locale's messages with an approved text in this locale (the
    # rest would reach its speakers in another language); written: with a text at any status.
    lines = ["locale  texts  approved  draft  in_review  retired  coverage  written"]
    sourced = [m for m in library.messages if m.text(m.source_locale, approved_only=False) is not None]
    for locale in library.locales():
        statuses = Counter(t.status for m in library.messages for t in m.texts if t.locale == locale)
        covered = sum(1 for m in sourced if m.text(locale, approved_only=True) is not None)
        written = sum(1 for m in sourced if m.text(locale, approved_only=False) is not None)
        coverage, written_share = ((100 * covered / len(sourced), 100 * written / len(sourced)) if sourced
                                   else (0.0, 0.0))
        lines.append(
            f"{locale:<7} {sum(statuses.values()):>5}  {statuses[Status.APPROVED]:>8}  "
            f"{statuses[Status.DRAFT]:>5}  {statuses[Status.IN_REVIEW]:>9}  {statuses[Status.RETIRED]:>7}  "
            f"{coverage:>7.1f}%  {written_share:>6.1f}%"
        )
    lines.append(
        f"{len(library.messages)} messages, {len(library.modules)} modules, {len(library.courses)} courses, "
        f"{len(library.screenings)} screenings, {len(library.keyword_sets)} keyword sets, "
        f"{len(library.regions)} region(s)"
    )
    return "\n".join(lines)


@content_cli.command("validate")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--quiet-warnings", is_flag=True, help="Print errors only (warnings are still counted).")
def validate_command(path: Path | None, strict: bool, quiet_warnings: bool) -> None:
    """Check the library (or PATH) and print every problem with file and line."""
    folder = path or content_dir()
    try:
        library = load_library(folder)
    except ContentError as exc:
        _fail(exc)
        return
    report = validate(library)
    _show(report, quiet_warnings)
    click.echo(_counts(library))
    click.echo(f"{folder}: {report.summary()}")
    if report.errors or (strict and report.warnings):
        raise SystemExit(1)


@content_cli.command("export")
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="Default: from OUT's suffix (.xlsx, .csv), else yaml."
)
@click.option("--locale", "locales", multiple=True, help="Only these locales in the texts table (repeatable).")
def export_command(out: Path, fmt: str | None, locales: tuple[str, ...]) -> None:
    """Write the library to OUT: a YAML folder, an .xlsx workbook, a .csv texts file or a CSV folder."""
    try:
        written = export_library(content_dir(), out, fmt, locales)
    except ContentError as exc:
        _fail(exc)
        return
    click.echo(f"wrote {len(written)} file(s) to {out}")


@content_cli.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@click.option("--approved-by", "approver", metavar="EMAIL",
              help="An admin's account: import statuses as written (approved included), audited.")
def import_command(source: Path, dry_run: bool, approver: str | None) -> None:
    """Merge SOURCE (.xlsx, .csv, a CSV folder or a YAML folder) into the library; all or nothing.

    New or changed wording that says "approved" is held for review (a change to approved text
    as a new version beside it), and changed structures are refused, unless an admin imports
    with --approved-by, which is checked against the accounts and audited.
    """
    record = None
    try:
        if approver:
            check = current_app.extensions.get(IMPORT_APPROVER)
            if check is None:
                raise ImportRejected("--approved-by needs the service's accounts: run it as flask --app bot")
            record = check(approver)
            if not dry_run:  # audited once the import is known to be valid, before it is written
                checked = import_into(content_dir(), source, dry_run=True, as_written=True)
                record({"source": source.name, "texts": checked.texts_in_file,
                        "summary": checked.report.summary()})
        result = import_into(content_dir(), source, dry_run, as_written=record is not None)
    except ContentError as exc:
        _fail(exc)
        return
    _show(result.report, quiet_warnings=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {result.texts_in_file} text row(s) from {source}; {result.report.summary()}")
    for item in result.held:
        click.echo(f"held for review (in_review, not sent until approved): {item}")
    if record is not None:
        click.echo(f"statuses {'would be ' if dry_run else ''}imported as written, approved by {approver}"
                   f"{'' if dry_run else ' (audited)'}")
    if not dry_run:
        click.echo(f"rewrote {len(result.written)} file(s) in {content_dir()}")


@content_cli.command("load")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--approved-by", "approver", metavar="EMAIL",
              help="An admin's account: load statuses as written (approved included), audited.")
def load_command(path: Path | None, approver: str | None) -> None:
    """Copy the library (or PATH) into the database for review in the portal.

    Safe to run on every release: versions already in the database are kept as they
    are (reviewed edits live there), and only new items and versions are added. The folder
    cannot approve new wording for a message the database holds: a new version or locale that
    says "approved" is loaded in_review unless the database already has that wording approved,
    so the approved version keeps being sent until a reviewer decides. Messages new to the
    database (all of them on the first load) are loaded as the library states them. An admin
    may load statuses as written with --approved-by, checked against the accounts and audited
    first.
    """
    from content.db import load_library_into, new_versions

    folder = path or content_dir()
    try:
        library = load_library(folder)
    except ContentError as exc:
        _fail(exc)
        return
    report = validate(library)
    if report.errors:
        _show(report, quiet_warnings=True)
        click.echo(f"{folder}: {report.summary()}; nothing loaded", err=True)
        raise SystemExit(1)
    services = current_app.extensions["tumaini.services"]
    if approver:
        check = current_app.extensions.get(IMPORT_APPROVER)
        try:
            if check is None:
                raise ImportRejected("--approved-by needs the service's accounts: run it as flask --app bot")
            record = check(approver)
        except ContentError as exc:
            _fail(exc)
            return
        with services.db.session() as session:
            adding = new_versions(session, library)
        record({"source": "content load", "folder": folder.name, "versions": len(adding),
                "approved": sum(1 for _, t in adding if t.status == Status.APPROVED)})
    with services.db.session() as session:
        result = load_library_into(session, library, as_written=bool(approver))
    for where in result.differing:
        click.echo(f"kept the database's {where}: it differs from the library file", err=True)
    for where in result.held:
        click.echo(f"held for review (in_review, not sent until approved): {where}")
    click.echo(
        f"loaded {result.items_created} new item(s) and {result.versions_created} new version(s); "
        f"kept {result.versions_kept} version(s) already in the database"
    )
    if result.first_load:
        click.echo("first load into a database with no content: the library's statuses were taken as written")
    elif approver:
        click.echo(f"statuses loaded as written, approved by {approver} (audited)")
    elif result.held:
        click.echo(f"{len(result.held)} text(s) the library marks approved were held for review: approve them in "
                   "the portal, or have an admin load them as written with --approved-by EMAIL")
