"""Spreadsheet files for content teams: XLSX workbooks and CSV files.

An XLSX workbook has one sheet per table (texts, keywords, glossary, structure). CSV
holds one table per file: a folder of ``<table>.csv`` files carries a whole library,
and a single CSV (say a translator's ``texts.csv``) carries one table. CSV is written
as UTF-8 with a byte-order mark so spreadsheet programs open accents correctly.

A CSV cell that starts with ``= + - @`` (or a tab or carriage return) is a formula to a
spreadsheet program, so a text such as ``=HYPERLINK(...)`` could run when a content lead
opens the file. Such cells are written with a leading apostrophe, which spreadsheets show
as text, and reading a CSV removes that apostrophe again, so export then import changes
nothing. XLSX cells are typed: a text starting with ``=`` is written as a string, never a
formula.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import IllegalCharacterError

from content.errors import ContentError, ImportRejected
from content.tables import COLUMNS, READ_ONLY, REQUIRED, Row

Tables = dict[str, list[Row]]
ParsedTables = dict[str, list[tuple[str, int, Row]]]
_WIDE = {
    "sms": 60,
    "whatsapp": 60,
    "source_sms": 50,
    "definition": 60,
    "notes": 40,
    "evidence_sources": 40,
    "words": 50,
}
_GREY = PatternFill("solid", fgColor="EEEEEE")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def _quoted(value: str) -> bool:
    """An apostrophe that hides a formula character (or another such apostrophe)."""
    return len(value) > 1 and value[0] == _QUOTE and value[1] in (*FORMULA_STARTS, _QUOTE)


def formula_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet reads as text: formula-like text gets a leading apostrophe.

    Text that already looks quoted gets one more apostrophe, so :func:`formula_unsafe`
    gives back exactly what was written.
    """
    if isinstance(value, str) and (value.startswith(FORMULA_STARTS) or _quoted(value)):
        return _QUOTE + value
    return value


def formula_unsafe(value: str) -> str:
    """The text a :func:`formula_safe` cell stood for."""
    return value[1:] if _quoted(value) else value


class SafeWriter:
    """``csv.writer`` whose every text cell goes through :func:`formula_safe`."""

    def __init__(self, handle: Any):
        self._writer = csv.writer(handle)

    def writerow(self, row: Any) -> Any:
        return self._writer.writerow([formula_safe(cell) for cell in row])


def write_xlsx(tables: Tables, path: Path) -> None:
    """One sheet per table; computed columns are shaded, long text wraps."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet, rows in tables.items():
        worksheet = workbook.create_sheet(sheet)
        columns = COLUMNS[sheet]
        for col, name in enumerate(columns, 1):
            cell = worksheet.cell(1, col, name)
            cell.font = Font(bold=True)
            letter = cell.column_letter
            worksheet.column_dimensions[letter].width = _WIDE.get(name, 16)
        for number, row in enumerate(rows, 2):
            for col, name in enumerate(columns, 1):
                value = row.get(name, "")
                try:
                    cell = worksheet.cell(number, col, value)
                except IllegalCharacterError:
                    raise ContentError(
                        f"{sheet} row {number}, {name}: contains a control character "
                        "that spreadsheets cannot hold; remove it"
                    ) from None
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
                if name in _WIDE:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if name in READ_ONLY:
                    cell.fill = _GREY
        worksheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def write_csv(rows: list[Row], sheet: str, path: Path) -> None:
    """One table as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS[sheet], extrasaction="ignore")
        writer.writeheader()
        writer.writerows({name: formula_safe(value) for name, value in row.items()} for row in rows)


def write_csv_folder(tables: Tables, folder: Path) -> list[Path]:
    """Every table as ``<folder>/<table>.csv``."""
    written = []
    for sheet, rows in tables.items():
        write_csv(rows, sheet, folder / f"{sheet}.csv")
        written.append(folder / f"{sheet}.csv")
    return written


def read_tables(path: Path) -> ParsedTables:
    """Rows of an .xlsx workbook, a .csv file or a folder of .csv files, with row numbers."""
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise ImportRejected(f"{path}: no .csv files found")
        result: ParsedTables = {}
        for file in files:
            for sheet, rows in _read_csv(file).items():
                result.setdefault(sheet, []).extend(rows)
        return result
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".csv":
        return _read_csv(path)
    raise ImportRejected(f"{path}: expected an .xlsx file, a .csv file or a folder of .csv files")


def _read_csv(path: Path) -> ParsedTables:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ImportRejected(f"{path.name}: the file is empty")
        sheet = _sheet_for(path.stem, header, path.name)
        rows = [(path.name, number, dict(zip(header, map(formula_unsafe, values), strict=False)))
                for number, values in enumerate(reader, 2)]
    return {sheet: _non_empty(rows)}


def _read_xlsx(path: Path) -> ParsedTables:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        result: ParsedTables = {}
        for worksheet in workbook.worksheets:
            values = list(worksheet.iter_rows(values_only=True))
            if not values:
                continue
            header = [_cell(v) for v in values[0]]
            label = f"{path.name} sheet {worksheet.title}"
            sheet = _sheet_for(worksheet.title, header, label)
            rows = [
                (label, number, dict(zip(header, (_cell(v) for v in row), strict=False)))
                for number, row in enumerate(values[1:], 2)
            ]
            result[sheet] = _non_empty(rows)
        return result
    finally:
        workbook.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_for(name: str, header: list[str], label: str) -> str:
    """Which table a file or sheet holds: by its name, else by its columns."""
    header = [h.strip() for h in header]
    sheet = (
        name
        if name in COLUMNS
        else next(
            (s for s, cols in COLUMNS.items() if set(REQUIRED[s]) <= set(header) and set(header) <= set(cols)), None
        )
    )
    if sheet is None:
        raise ImportRejected(f"{label}: not a content table (name it one of {', '.join(COLUMNS)})")
    unknown = [h for h in header if h and h not in COLUMNS[sheet]]
    missing = [c for c in REQUIRED[sheet] if c not in header]
    if unknown or missing:
        problems = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing column(s) {', '.join(missing)}"] if missing else []
        )
        raise ImportRejected(f"{label}: {'; '.join(problems)} (columns: {', '.join(COLUMNS[sheet])})")
    return sheet


def _non_empty(rows: list[tuple[str, int, Row]]) -> list[tuple[str, int, Row]]:
    kept = []
    for where, number, row in rows:
        if any(str(v).strip() for v in row.values()):
            kept.append((where, number, {k.strip(): v for k, v in row.items() if k and k.strip() not in READ_ONLY}))
    return kept
