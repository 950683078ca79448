"""Named errors of the safety gate."""

from core.exceptions import TumainiError


class SafetyError(TumainiError):
    """Base class for safety gate errors."""


class LexiconError(SafetyError):
    """A crisis lexicon file is malformed; the message names the file and entry."""


class RedTeamFileError(SafetyError):
    """A red-team CSV cannot be evaluated; the message names the row or column."""
