"""Split content into sentences for translation and put it back together unchanged.

NMT models are trained on single sentences; a three-sentence content message translated as
one input loses or repeats sentences. Splitting keeps every sentence, and the separators
(spaces, line breaks) are kept so the layout an editor chose survives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (and the Devanagari, Arabic and Ethiopic full stops and question
# marks) followed by white space. Numbers like "0800.720" and URLs have no space after the dot.
_BOUNDARY = re.compile(r"(?<=[.!?।؟።፧])\s+|\n+")


@dataclass(frozen=True)
class Segmented:
    """Sentences of one text and the separators between them (one fewer than sentences)."""

    sentences: list[str]
    separators: list[str]
    leading: str = ""
    trailing: str = ""

    def join(self, translated: list[str]) -> str:
        """Rebuild the text from translated sentences, keeping the original separators."""
        parts = [self.leading]
        for i, sentence in enumerate(translated):
            parts.append(sentence)
            if i < len(self.separators):
                parts.append(self.separators[i])
        parts.append(self.trailing)
        return "".join(parts)


def split(text: str) -> Segmented:
    """Sentences of ``text``; an empty or blank text has no sentences."""
    stripped = text.strip()
    if not stripped:
        return Segmented([], [], text, "")
    leading = text[: len(text) - len(text.lstrip())]
    trailing = text[len(text.rstrip()) :]
    sentences: list[str] = []
    separators: list[str] = []
    pos = 0
    for match in _BOUNDARY.finditer(stripped):
        sentence = stripped[pos : match.start()]
        if sentence:
            sentences.append(sentence)
            separators.append(match.group(0))
        elif separators:
            separators[-1] += match.group(0)
        pos = match.end()
    sentences.append(stripped[pos:])
    return Segmented(sentences, separators, leading, trailing)
