"""Named errors of the dialogue model, one small class each."""

from core.exceptions import TumainiError


class DialogueError(TumainiError):
    """Base class for dialogue errors."""


class DialogueUnavailable(DialogueError):
    """The configured dialogue model is not installed, not verified or cannot be loaded."""


class ChatTemplateError(DialogueError):
    """The model directory's tokenizer or chat template is missing or cannot be rendered."""
