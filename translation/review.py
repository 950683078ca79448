"""Machine help for the people who review translated content in the portal.

A reviewer gets a machine-translated draft to correct instead of a blank page, and a
back-translation of a draft (or of their own edit) so a clinician who does not read the
language can check the meaning survived. Neither is ever sent to anyone directly: content
goes out only after review. Both are content, not people's messages, so they may be cached.
"""

from __future__ import annotations

from translation.app import app_translator
from translation.base import Translation, Translator


def draft_translation(text: str, src: str, tgt: str, *, translator: Translator | None = None) -> Translation:
    """A draft of ``text`` (in ``src``) in ``tgt``, for a reviewer to correct."""
    return (translator or app_translator()).translate(text, src, tgt, cacheable=True)


def back_translation(text: str, src: str, tgt: str, *, translator: Translator | None = None) -> Translation:
    """``text`` (a translation into ``tgt``) rendered back into ``src`` for checking.

    Takes the same ``src, tgt`` as the draft it checks, so the portal passes one pair around.
    """
    return (translator or app_translator()).translate(text, tgt, src, cacheable=True)
