"""The workbook of a review round, for offline review sessions: one row per text.

Read-only columns (grey) show what is under review: the text, its source, the comments and
sign-offs so far. People fill in the white columns: a comment and who made it, the comment
it answers, the name of whoever signs off each kind of review, and new wording they
suggest. An "about" sheet names the round, so a workbook cannot be imported into another.
This module only moves rows in and out of the file; what a row may do is decided by the
portal (:mod:`bot.portal.round_import`).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import IllegalCharacterError, InvalidFileException

from content.errors import ContentError, ImportRejected

SHEET, ABOUT = "review", "about"
KEY = ("id", "locale", "version")
READ_ONLY = ("status", "source_sms", "sms", "whatsapp", "comments_so_far", "signed_off")
FILLED_IN = (
    "comment",
    "commenter",
    "answer_to",
    "language_signoff",
    "clinical_signoff",
    "lived_experience_signoff",
    "suggested_sms",
)
COLUMNS = (*KEY, *READ_ONLY, *FILLED_IN)
WIDE = {"source_sms": 45, "sms": 50, "whatsapp": 40, "comments_so_far": 50, "comment": 45, "suggested_sms": 45}
_GREY = PatternFill("solid", fgColor="EEEEEE")
INSTRUCTIONS = (
    "One row per text. Grey columns are for reading; changes there are refused on import.",
    "comment: what people said about the text; commenter: who said it (a name or a group).",
    "answer_to: the number (#) of an earlier comment this one answers, from comments_so_far.",
    "language_signoff, clinical_signoff, lived_experience_signoff: the name of whoever signs off "
    "that review of this exact text (or 'yes' for the commenter).",
    "suggested_sms: new wording. It becomes a draft that still goes through review in the portal.",
)

Row = dict[str, str]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def write_round_workbook(target: Path | IO[bytes], about: dict[str, Any], rows: list[Row]) -> None:
    """The round's workbook: the review sheet and the about sheet."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    for col, name in enumerate(COLUMNS, 1):
        cell = sheet.cell(1, col, name)
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = WIDE.get(name, 16)
    for number, row in enumerate(rows, 2):
        for col, name in enumerate(COLUMNS, 1):
            value = row.get(name, "")
            try:
                cell = sheet.cell(number, col, value)
            except IllegalCharacterError:
                raise ContentError(
                    f"{row.get('id')}: {name} holds a control character spreadsheets cannot hold"
                ) from None
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            cell.alignment = Alignment(wrap_text=name in WIDE, vertical="top")
            if name in KEY or name in READ_ONLY:
                cell.fill = _GREY
    sheet.freeze_panes = "B2"
    info = workbook.create_sheet(ABOUT)
    for number, (key, value) in enumerate(about.items(), 1):
        info.cell(number, 1, key).font = Font(bold=True)
        info.cell(number, 2, value)
    start = len(about) + 2
    for offset, line in enumerate(INSTRUCTIONS):
        info.cell(start + offset, 1, line)
    info.column_dimensions["A"].width = 20
    info.column_dimensions["B"].width = 40
    workbook.save(target)


def read_round_workbook(source: Path | IO[bytes]) -> tuple[dict[str, str], list[tuple[int, Row]]]:
    """(about, [(row number, row)]); ImportRejected when the file is not a round workbook."""
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRejected(f"not an .xlsx workbook ({type(exc).__name__})") from None
    try:
        if SHEET not in workbook.sheetnames or ABOUT not in workbook.sheetnames:
            raise ImportRejected(f"the workbook needs the sheets '{SHEET}' and '{ABOUT}' of a round export")
        about = {
            _cell_text(r[0]): _cell_text(r[1]) if len(r) > 1 else ""
            for r in workbook[ABOUT].iter_rows(values_only=True)
            if r and r[0] is not None
        }
        values = list(workbook[SHEET].iter_rows(values_only=True))
    finally:
        workbook.close()
    if not values:
        raise ImportRejected(f"the sheet '{SHEET}' is empty")
    header = [_cell_text(v) for v in values[0]]
    unknown = [h for h in header if h and h not in COLUMNS]
    missing = [c for c in (*KEY, "sms", *FILLED_IN) if c not in header]
    if unknown or missing:
        parts = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing column(s) {', '.join(missing)}"] if missing else []
        )
        raise ImportRejected(f"sheet '{SHEET}': {'; '.join(parts)} (columns: {', '.join(COLUMNS)})")
    rows = []
    for number, raw in enumerate(values[1:], 2):
        row = {name: _cell_text(value) for name, value in zip(header, raw, strict=False) if name}
        if any(row.values()):
            rows.append((number, row))
    return about, rows
