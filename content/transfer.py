"""Moving a content library between its YAML folder and spreadsheets or other folders.

Import is all or nothing: every bad row is reported with its row number, then the merged
library is validated, and only a library without errors is written back. An import cannot
approve its own content: what it changes goes through review (content.import_review) unless
an admin imports the statuses as written. Files of kinds
this layer does not own (such as the safety gate's lexicons) are never touched.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from content.errors import ImportRejected
from content.import_review import hold_for_review
from content.loader import load_library, owned_files
from content.problems import Report
from content.schema import Library, Settings
from content.spreadsheet import read_tables, write_csv, write_csv_folder, write_xlsx
from content.tables import Update, apply_update, library_to_tables, tables_to_update
from content.validate import validate
from content.writer import write_library

FORMATS = ("yaml", "csv", "xlsx")


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or would do, on a dry run)."""

    library: Library
    report: Report
    written: tuple[Path, ...]
    texts_in_file: int
    held: tuple[str, ...] = ()  # held for review: "item/locale@version", "keywords/locale@version"


def load_or_empty(content_dir: Path) -> Library:
    """The library in a folder; an empty library when the folder has no content yet."""
    if not content_dir.exists() or not owned_files(content_dir):
        return Library(Settings())
    return load_library(content_dir)


def guess_format(out: Path) -> str:
    """xlsx and csv by suffix; anything else is a folder of YAML."""
    return {".xlsx": "xlsx", ".csv": "csv"}.get(out.suffix.lower(), "yaml")


def export_library(content_dir: Path, out: Path, fmt: str | None = None, locales: tuple[str, ...] = ()) -> list[Path]:
    """Write the library as YAML (a folder), XLSX (a workbook) or CSV (a folder, or one texts file)."""
    library = load_library(content_dir)
    fmt = fmt or guess_format(out)
    if fmt == "yaml":
        if locales:
            raise ImportRejected("--locale applies to spreadsheets; YAML export writes the whole library")
        return write_library(library, out)
    tables = library_to_tables(library, locales or None)
    if fmt == "xlsx":
        write_xlsx(tables, out)
        return [out]
    if out.suffix.lower() == ".csv":
        write_csv(tables["texts"], "texts", out)
        return [out]
    return write_csv_folder(tables, out)


def read_update(source: Path) -> Update:
    """Rows from a spreadsheet, or every item of another YAML content folder."""
    is_yaml_folder = source.is_dir() and not any(source.glob("*.csv"))
    if not is_yaml_folder:
        return tables_to_update(read_tables(source))
    library = load_library(source, require_sources=False)
    update = Update()
    for message in library.messages:
        update.texts[message.id] = list(message.texts)
        if message.source is not None:  # the pack defines this message, not only translates it
            update.message_fields[message.id] = {
                "kind": message.kind,
                "source_locale": message.source_locale,
                "segment_budget": message.segment_budget,
            }
    for kind, items in (
        ("module", library.modules),
        ("course", library.courses),
        ("screening", library.screenings),
        ("region", library.regions),
    ):
        update.structures.update({(kind, item.id): item for item in items})
    if (source / "library.yaml").is_file():
        update.structures[("library", "library")] = library.settings
    update.keyword_sets.extend(library.keyword_sets)
    update.glossaries.extend(library.glossaries)
    return update


def import_into(content_dir: Path, source: Path, dry_run: bool = False, as_written: bool = False) -> ImportResult:
    """Merge ``source`` into the library at ``content_dir``; raise ImportRejected on any error.

    New or changed content is held for review; ``as_written`` (an admin's audited choice)
    keeps the statuses the source gives.
    """
    update = read_update(source)
    base = load_or_empty(content_dir)
    held: tuple[str, ...] = ()
    if not as_written:
        update, holding = hold_for_review(base, update)
        held = tuple(holding.items)
    merged = apply_update(base, update)
    report = validate(merged)
    if not report.ok:
        raise ImportRejected(
            f"the imported content has {report.summary()}; nothing was imported", [str(p) for p in report.errors]
        )
    written = () if dry_run else tuple(replace_library_files(content_dir, merged))
    return ImportResult(merged, report, written, sum(len(t) for t in update.texts.values()), held)


def replace_library_files(content_dir: Path, library: Library) -> list[Path]:
    """Rewrite the files this layer owns in the canonical layout, leaving other files alone."""
    content_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=content_dir.parent) as staging:
        staged = write_library(library, Path(staging))
        for old in owned_files(content_dir):
            old.unlink()
        written = []
        for file in staged:
            target = content_dir / file.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(file), target)
            written.append(target)
    return written
