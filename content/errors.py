"""Named exceptions of the content layer."""

from __future__ import annotations


class ContentError(Exception):
    """Base class; ``problems`` lists every editor-facing message when there are several."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class LoadError(ContentError):
    """A content file could not be read; each problem names the file and line."""


class ContentInvalid(ContentError):
    """The library loaded but failed validation; nothing from it should be served."""


class ImportRejected(ContentError):
    """A spreadsheet had bad rows; nothing from it was imported."""


class ContentMissing(ContentError):
    """No sendable text exists for an id in any locale that was tried."""


class ContentNotApproved(ContentMissing):
    """Text exists, but no version of it is approved in any locale that was tried."""


class MissingValue(ContentError):
    """A placeholder in the text was given no value."""
