"""Keep hotlines, links, placeholders, keywords and names intact through machine translation.

A translated support message with a wrong digit in the crisis hotline is worse than no
message. Before translation every protected span is replaced by a numbered mask, "[0]",
"[1]"...; after translation the masks are put back. If any mask is missing from the output,
the translation is rejected ("protected token lost") rather than sent.

Why "[n]": square brackets and ASCII digits are in every sentencepiece vocabulary we serve
(NLLB-200, OPUS-MT), so the mask never becomes <unk>; NMT models copy bracketed numbers
(citations, list markers) verbatim, and the mask is short, so it disturbs the sentence little.
Restoration tolerates the spacing and full-width brackets models sometimes produce ("[ 0 ]",
"［0］"). Text that already contains something shaped like a mask is protected as well, so it
cannot be confused with one.

Glossary terms chosen by a community ("msongo wa mawazo" for "stress") go through the same
mechanism: the source term is masked and its mask is restored as the chosen target term.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from translation.base import PROTECTED_TOKEN_LOST, SPURIOUS_PLACEHOLDER, Translation, Translator
from translation.languages import base_language

MASK_SCHEME = "brackets-v1"
_MASK_OUT = "[{}]"
_MASK_IN = re.compile(r"[\[［【]\s*(\d{1,3})\s*[\]］】]")

_URL = r"(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_PLACEHOLDER = r"\{\{?\s*[A-Za-z_][\w.]*\s*\}?\}|%\([A-Za-z_]\w*\)[sd]|%[sd]"
# Phone numbers and other numbers: an optional +, digits, with inner spaces, dots, dashes or
# slashes between digit groups ("+254 722 178 177", "0800-720-600", "116", "24/7").
_NUMBER = r"\+?\d(?:[\d]|[ .\-/](?=\d))*"
_EXISTING_MASK = r"[\[［【]\s*\d{1,3}\s*[\]］】]"
_BUILTIN = re.compile("|".join(f"(?:{p})" for p in (_EXISTING_MASK, _URL, _EMAIL, _PLACEHOLDER, _NUMBER)))


class Glossary:
    """Community-chosen translations of terms, per language pair.

    Mental-health words carry stigma or have no neutral equivalent; the people a service
    is for choose the word, and machine translation must use it.
    """

    def __init__(self, entries: Mapping[tuple[str, str], Mapping[str, str]] | None = None):
        self._entries: dict[tuple[str, str], dict[str, str]] = {}
        for (src, tgt), terms in (entries or {}).items():
            pair = (base_language(src), base_language(tgt))
            self._entries.setdefault(pair, {}).update({t.lower(): v for t, v in terms.items()})

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> Glossary:
        """Build from rows with keys src, tgt, term, translation (a spreadsheet export)."""
        entries: dict[tuple[str, str], dict[str, str]] = {}
        for row in rows:
            entries.setdefault((row["src"], row["tgt"]), {})[row["term"]] = row["translation"]
        return cls(entries)

    @classmethod
    def from_csv(cls, path: Path) -> Glossary:
        """Read a CSV with the columns src,tgt,term,translation."""
        with Path(path).open(encoding="utf-8", newline="") as handle:
            return cls.from_rows(csv.DictReader(handle))

    def terms(self, src: str, tgt: str) -> dict[str, str]:
        """Source term (lower-case) -> target term, for one pair."""
        return self._entries.get((base_language(src), base_language(tgt)), {})

    def fingerprint(self, src: str, tgt: str) -> str:
        """Changes whenever the pair's entries do, so cached translations are not reused."""
        items = sorted(self.terms(src, tgt).items())
        return hashlib.sha256(repr(items).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Masked:
    """A text with its protected spans replaced by masks, and what each mask restores to."""

    text: str
    restore_to: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Restored:
    """The output with masks put back, the masks the model dropped, and ones it invented."""

    text: str
    missing: list[int]
    spurious: int = 0


class Protector:
    """Masks protected spans before translation and restores them after."""

    def __init__(self, *, terms: Iterable[str] = (), glossary: Glossary | None = None):
        # Keywords (STOP, HELP) and names (the service's name, a helpline's name) are matched
        # as whole words with their case, so "stop worrying" is still translated.
        self._terms = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
        self._terms_re = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in self._terms) + r")(?!\w)")
            if self._terms
            else None
        )
        self.glossary = glossary or Glossary()

    def fingerprint(self, src: str, tgt: str) -> str:
        """Identifies the protection applied to a pair (part of the cache key)."""
        raw = repr((MASK_SCHEME, self._terms, self.glossary.fingerprint(src, tgt)))
        return hashlib.sha256(raw.encode()).hexdigest()[:12]

    def _spans(self, text: str, src: str, tgt: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        for match in _BUILTIN.finditer(text):
            spans.append((match.start(), match.end(), match.group(0)))
        if self._terms_re is not None:
            spans += [(m.start(), m.end(), m.group(0)) for m in self._terms_re.finditer(text)]
        terms = self.glossary.terms(src, tgt)
        if terms:
            pattern = r"(?<!\w)(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")(?!\w)"
            for m in re.finditer(pattern, text, flags=re.IGNORECASE):
                spans.append((m.start(), m.end(), terms[m.group(0).lower()]))
        # Earliest first, longest first at the same start; overlapping later spans are dropped.
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        chosen: list[tuple[int, int, str]] = []
        end = -1
        for span in spans:
            if span[0] >= end:
                chosen.append(span)
                end = span[1]
        return chosen

    def mask(self, text: str, src: str, tgt: str) -> Masked:
        """Replace protected spans by "[0]", "[1]"... in order of appearance."""
        spans = self._spans(text, src, tgt)
        if not spans:
            return Masked(text, [])
        parts: list[str] = []
        restore_to: list[str] = []
        pos = 0
        for start, end, value in spans:
            parts.append(text[pos:start])
            parts.append(_MASK_OUT.format(len(restore_to)))
            restore_to.append(value)
            pos = end
        parts.append(text[pos:])
        return Masked("".join(parts), restore_to)

    def restore(self, translated: str, masked: Masked) -> Restored:
        """Put protected spans back; report masks that the model lost."""
        found: set[int] = set()
        spurious = 0

        def put_back(match: re.Match[str]) -> str:
            nonlocal spurious
            index = int(match.group(1))
            if index < len(masked.restore_to):
                found.add(index)
                return masked.restore_to[index]
            spurious += 1
            return match.group(0)

        text = _MASK_IN.sub(put_back, translated)
        missing = [i for i in range(len(masked.restore_to)) if i not in found]
        return Restored(text, missing, spurious)


class ProtectedTranslator(Translator):
    """Decorator: mask, translate with the inner translator, restore, reject lost tokens."""

    def __init__(self, inner: Translator, protector: Protector | None = None):
        self.inner = inner
        self.protector = protector or Protector()

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        """Translate masked texts in one inner batch and check every mask came back."""
        masked = [self.protector.mask(text, src, tgt) for text in texts]
        outputs = self.inner.translate_batch([m.text for m in masked], src, tgt, cacheable=cacheable)
        results = []
        for out, m in zip(outputs, masked, strict=True):
            restored = self.protector.restore(out.text, m)
            if restored.missing:
                results.append(Translation(restored.text, out.confidence, False, PROTECTED_TOKEN_LOST))
            elif restored.spurious and out.ok:
                # Every mask-shaped span of the input was masked, so one in the output that
                # matches no mask was made up by the model: a number or link would be missing.
                results.append(Translation(restored.text, out.confidence, False, SPURIOUS_PLACEHOLDER))
            else:
                results.append(Translation(restored.text, out.confidence, out.ok, out.reason))
        return results

    def supports(self, src: str, tgt: str) -> bool:
        """Same pairs as the inner translator."""
        return self.inner.supports(src, tgt)

    def version(self, src: str, tgt: str) -> str:
        """The inner version plus the protection (terms, glossary) applied to this pair."""
        return f"{self.inner.version(src, tgt)}+p{self.protector.fingerprint(src, tgt)}"

    def route(self, src: str, tgt: str) -> list[str]:
        """The inner route."""
        return self.inner.route(src, tgt)
