"""Spreadsheet round trips and all-or-nothing imports."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from content.cli import DEFAULT_CONTENT_DIR
from content.errors import ImportRejected
from content.loader import load_library
from content.schema import Library, Status
from content.spreadsheet import write_xlsx
from content.tables import COLUMNS
from content.transfer import export_library, import_into


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The starter library exported once as XLSX and as a CSV folder."""
    root = tmp_path_factory.mktemp("export")
    export_library(DEFAULT_CONTENT_DIR, root / "library.xlsx")
    export_library(DEFAULT_CONTENT_DIR, root / "csv", fmt="csv")
    return {"xlsx": root / "library.xlsx", "csv": root / "csv"}


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_loses_nothing(
    exported: dict[str, Path], starter_library: Library, tmp_path: Path, fmt: str
) -> None:
    # A whole library into an empty folder: an admin's import, statuses as written.
    result = import_into(tmp_path / "fresh", exported[fmt], as_written=True)
    assert result.report.ok
    assert load_library(tmp_path / "fresh") == starter_library


def test_workbook_is_readable_for_editors(exported: dict[str, Path]) -> None:
    workbook = load_workbook(exported["xlsx"], read_only=True)
    assert workbook.sheetnames == ["texts", "keywords", "glossary", "structure"]
    rows = list(workbook["texts"].iter_rows(values_only=True))
    workbook.close()
    header = list(rows[0])
    assert header == COLUMNS["texts"]
    welcome = [dict(zip(header, r, strict=False)) for r in rows if r[0] == "onboarding.welcome"]
    assert [r["locale"] for r in welcome] == ["en", "am", "ar", "es", "fr", "ha", "hi", "pt", "so", "sw", "yo", "zu"]
    assert welcome[1]["source_sms"] == welcome[0]["sms"]
    assert welcome[0]["sms_segments"] == "1 (GSM-7)"


def test_translator_csv_updates_one_text(library_copy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sw.csv"
    export_library(library_copy, sheet, locales=("sw",))
    with sheet.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["locale"] for r in rows} == {"sw"}
    for row in rows:
        if row["id"] == "onboarding.welcome":
            row.update(
                status="approved",
                sms="Karibu Tumaini. Mimi ni huduma ya kiotomatiki, si mtu.",
                language_reviewer="A. Reviewer, 2024-05-01",
            )
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS["texts"])
        writer.writeheader()
        writer.writerows(rows)
    lexicon = (
        (library_copy / "en/crisis_lexicon.yaml").read_bytes()
        if (library_copy / "en/crisis_lexicon.yaml").exists()
        else None
    )

    result = import_into(library_copy, sheet)

    # The sheet says "approved", but an import approves nothing: the new wording waits for review.
    updated = {m.id: m for m in load_library(library_copy).messages}
    served = updated["onboarding.welcome"].text("sw")  # what people are sent: the approved wording, as it was
    assert served is None or not served.sms.startswith("Karibu Tumaini. Mimi ni huduma")
    swahili = updated["onboarding.welcome"].text("sw", approved_only=False)
    assert swahili is not None and swahili.status == Status.IN_REVIEW
    assert swahili.sms.startswith("Karibu Tumaini. Mimi ni huduma")
    assert swahili.provenance.language_reviewer == "A. Reviewer, 2024-05-01"
    assert result.held == (f"onboarding.welcome/sw@{swahili.version}",)
    untouched = updated["onboarding.consent"].text("sw")  # still the demonstration text, unsigned
    assert untouched is not None and untouched.provenance.language_reviewer.startswith("pending")
    # An admin's import (audited by the web app) takes the status as written.
    import_into(library_copy, sheet, as_written=True)
    swahili = {m.id: m for m in load_library(library_copy).messages}["onboarding.welcome"].text("sw")
    assert swahili is not None and swahili.status == Status.APPROVED
    if lexicon is not None:
        assert (library_copy / "en/crisis_lexicon.yaml").read_bytes() == lexicon


def test_bad_rows_are_all_reported_and_nothing_is_imported(library_copy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "texts.csv"
    rows = [
        {
            "id": "onboarding.welcome",
            "locale": "sw",
            "version": "2",
            "status": "aproved",
            "sms": "Karibu.",
            "author": "X",
        },
        {
            "id": "onboarding.consent",
            "locale": "sw",
            "version": "two",
            "status": "draft",
            "sms": "Ridhaa.",
            "author": "X",
        },
        {"id": "", "locale": "sw", "version": "1", "status": "draft", "sms": "", "author": "X"},
        {"id": "menu.invalid", "locale": "sw", "version": "2", "status": "draft", "sms": "Sawa.", "author": "X"},
        {"id": "menu.invalid", "locale": "sw", "version": "2", "status": "draft", "sms": "Tena.", "author": "X"},
    ]
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "locale", "version", "status", "sms", "author"])
        writer.writeheader()
        writer.writerows(rows)
    before = snapshot(library_copy)
    with pytest.raises(ImportRejected) as caught:
        import_into(library_copy, sheet)
    assert caught.value.problems == [
        "texts.csv row 2: status 'aproved' is not one of draft, in_review, approved, retired",
        "texts.csv row 3: version 'two' is not a whole number",
        "texts.csv row 4: empty id, sms; fill them in",
        "texts.csv row 6: repeats texts.csv row 5; keep one row per id, locale and version",
    ]
    assert snapshot(library_copy) == before


def test_rows_that_break_validation_are_rejected(library_copy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "texts.csv"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "locale", "version", "status", "sms", "author"])
        writer.writerow(["menu.main", "sw", "2", "draft", "Chagua:\n{menyu}", "X"])
    before = snapshot(library_copy)
    with pytest.raises(ImportRejected) as caught:
        import_into(library_copy, sheet)
    [problem] = caught.value.problems
    assert problem.startswith("ERROR texts.csv row 2: 'menu.main' (sw/SMS): placeholders differ")
    assert snapshot(library_copy) == before


def test_unknown_column_is_rejected(library_copy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "texts.csv"
    sheet.write_text("id,locale,version,status,sms,author,colour\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="unknown column"):
        import_into(library_copy, sheet)


def test_formula_looking_text_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_xlsx({"texts": [{"id": "x", "sms": '=HYPERLINK("http://x")'}]}, path)
    workbook = load_workbook(path)
    cell = workbook["texts"]["E2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")


def test_import_a_yaml_translation_pack(library_copy: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "sw").mkdir(parents=True)
    (pack / "sw/review.yaml").write_text(
        "kind: messages\n"
        "defaults:\n"
        "  status: approved\n"
        "  version: 2\n"
        "  source_version: 1\n"
        "  provenance: {author: Community review group, language_reviewer: A. Reviewer}\n"
        "messages:\n"
        "  fallback.media_only: Samahani, ninasoma maandishi tu. Tafadhali andika kwa maneno.\n",
        encoding="utf-8",
    )
    # The pack translates an English text it does not carry: import resolves it against the library.
    with pytest.raises(ImportRejected):
        import_into(tmp_path / "empty", pack)
    import_into(library_copy, pack)
    store_text = {m.id: m for m in load_library(library_copy).messages}["fallback.media_only"]
    held = store_text.text("sw", approved_only=False)
    assert held is not None and (held.version, held.status) == (2, Status.IN_REVIEW)  # for review, not sent
    served = store_text.text("sw")
    assert served is None or served.version == 1  # what was approved before stays what is sent
    assert store_text.text("en") is not None
    import_into(library_copy, pack, as_written=True)
    store_text = {m.id: m for m in load_library(library_copy).messages}["fallback.media_only"]
    assert store_text.text("sw").version == 2  # type: ignore[union-attr]


def test_misspelt_id_is_caught(library_copy: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "texts.csv"
    sheet.write_text("id,locale,version,status,sms,author\nonboarding.welcom,sw,1,draft,Karibu.,X\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_into(library_copy, sheet)
    assert caught.value.problems == [
        "ERROR texts.csv row 2: 'onboarding.welcom': there is no en text for this id; "
        "fix the id if it is misspelt, or add the en text first"
    ]
