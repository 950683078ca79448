"""Word-level differences between two versions of a text, for reviewers.

SMS texts are one paragraph, so a line diff would mark the whole text as changed;
comparing words (keeping the spaces and line breaks between them) shows exactly what
a translator or editor touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    """A run of text that is the same in both versions, or only in the old ("del") or new ("ins")."""

    kind: str  # "same", "del" or "ins"
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """The pieces that turn ``old`` into ``new``, in reading order (deletions before insertions)."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[Piece] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(Piece("del", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(Piece("ins", "".join(b[j1:j2])))
    return pieces


def changed(pieces: list[Piece]) -> bool:
    return any(p.kind != "same" for p in pieces)
