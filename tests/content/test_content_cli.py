"""``flask content validate|export|import`` as a content lead uses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskCliRunner

from content.cli import DEFAULT_CONTENT_DIR, IMPORT_APPROVER
from content.loader import load_library

Runner = Callable[[Path], FlaskCliRunner]


def test_validate_the_starter_library(cli_runner: Runner) -> None:
    result = cli_runner(DEFAULT_CONTENT_DIR).invoke(args=["content", "validate"])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    counts = dict(re.findall(r"^(en|sw)\s+(\d+)", result.output, re.M))
    assert counts["sw"] == counts["en"]  # every English text has a Swahili version
    coverage = {loc: (float(a), float(w)) for loc, a, w in
                re.findall(r"^(\w+)\s+(?:\d+\s+){5}([\d.]+)%\s+([\d.]+)%$", result.output, re.M)}
    assert {loc for loc, (approved, _) in coverage.items() if approved == 100.0} == {"en", "sw", "es", "fr", "hi", "ar"}
    assert all(0 < written < 100 and approved == 0 for loc, (approved, written) in coverage.items()
               if loc in {"am", "ha", "yo", "zu", "so", "pt"})  # drafts of the safe minimum


def test_validate_reports_errors_with_location_and_fails(cli_runner: Runner, make_library: Callable[..., Path]) -> None:
    too_long = """
        kind: messages
        defaults: {status: approved, provenance: {author: Test author}}
        messages:
          long.one: "%s"
    """ % ("word " * 120)
    folder = make_library({"en/long.yaml": too_long})
    result = cli_runner(folder).invoke(args=["content", "validate"])
    assert result.exit_code == 1
    assert "ERROR en/long.yaml:4: 'long.one' (en/SMS): SMS body is 4 segments (GSM-7, 599 units)" in result.output


def test_validate_strict_fails_on_warnings(cli_runner: Runner) -> None:
    result = cli_runner(DEFAULT_CONTENT_DIR).invoke(args=["content", "validate", "--strict", "--quiet-warnings"])
    assert result.exit_code == 1
    assert "WARNING" not in result.output


def test_load_errors_fail_cleanly(cli_runner: Runner, make_library: Callable[..., Path]) -> None:
    folder = make_library({"en/bad.yaml": "kind: messages\nmessages: [oops]\n"})
    result = cli_runner(folder).invoke(args=["content", "validate"])
    assert result.exit_code == 1
    assert "en/bad.yaml:2: expected a block of 'key: value' lines here" in result.output


class RecordingApprover:
    """The web app's --approved-by check, as a fake: every email is an admin; records are kept."""

    def __init__(self) -> None:
        self.records: list[tuple[str, dict]] = []

    def __call__(self, email: str) -> Callable[[dict], None]:
        return lambda detail: self.records.append((email, detail))


def test_export_then_import_through_the_cli(
    cli_runner: Runner, make_library: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_library()
    runner = cli_runner(source)
    exported = runner.invoke(args=["content", "export", str(tmp_path / "out.xlsx")])
    assert exported.exit_code == 0, exported.output
    target = tmp_path / "fresh"
    target_runner = cli_runner(target)
    approver = RecordingApprover()
    target_runner.app.extensions[IMPORT_APPROVER] = approver
    # A whole library into an empty folder is new content: only an admin may import it as approved.
    refused = target_runner.invoke(args=["content", "import", "--dry-run", str(tmp_path / "out.xlsx")])
    assert refused.exit_code == 1 and "--approved-by" in refused.output
    dry = target_runner.invoke(args=["content", "import", "--dry-run", "--approved-by", "lead@example.org",
                                     str(tmp_path / "out.xlsx")])
    assert dry.exit_code == 0, dry.output
    assert "would import" in dry.output
    assert not target.exists() and approver.records == []
    done = target_runner.invoke(args=["content", "import", "--approved-by", "lead@example.org",
                                      str(tmp_path / "out.xlsx")])
    assert done.exit_code == 0, done.output
    assert load_library(target) == load_library(source)
    assert [email for email, _ in approver.records] == ["lead@example.org"]


def test_import_of_bad_rows_fails_with_row_numbers(
    cli_runner: Runner, make_library: Callable[..., Path], tmp_path: Path
) -> None:
    sheet = tmp_path / "texts.csv"
    sheet.write_text("id,locale,version,status,sms,author\nhello.one,sw,1,maybe,Habari,X\n", encoding="utf-8")
    result = cli_runner(make_library()).invoke(args=["content", "import", str(sheet)])
    assert result.exit_code == 1
    assert "texts.csv row 2: status 'maybe' is not one of" in result.output
