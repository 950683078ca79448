"""Findings of validation, addressed to editors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding, addressed to an editor."""

    severity: str  # "error" or "warning"
    code: str
    message: str
    item_id: str = ""
    locale: str = ""
    channel: str = ""
    origin: str = ""

    def __str__(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        scope = "/".join(x for x in (self.locale, self.channel.upper() if self.channel == "sms" else self.channel) if x)
        item = f"'{self.item_id}'" + (f" ({scope})" if scope else "") + ": " if self.item_id else ""
        return f"{self.severity.upper()} {where}{item}{self.message}"


@dataclass(frozen=True)
class Report:
    """All findings for a library."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        """Findings that block loading or importing."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Findings to fix before going live that do not block."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing blocks loading."""
        return not self.errors

    def summary(self) -> str:
        """Counts of errors and warnings, for command output and exceptions."""
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"


def error(code: str, message: str, **where: str) -> Problem:
    """A finding that blocks loading or importing."""
    return Problem("error", code, message, **where)


def warning(code: str, message: str, **where: str) -> Problem:
    """A finding that is reported but does not block."""
    return Problem("warning", code, message, **where)
