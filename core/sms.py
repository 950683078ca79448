"""SMS-native composition: segment counting, GSM-7 normalisation and splitting.

People on basic phones pay per segment and some phones show long concatenated
messages badly, so what we send is counted the way carriers count it:

* GSM-7 (3GPP TS 23.038 default alphabet): 160 septets in a single segment,
  153 per segment once a message is split (the rest is the concatenation
  header). Characters from the extension table (``^{}\\[~]|€`` and form feed)
  are sent as ESC + character and take two septets.
* UCS-2 (UTF-16 on the wire): 70 code units in a single segment, 67 per
  segment when split. Characters outside the Basic Multilingual Plane (most
  emoji) take two code units (a surrogate pair).

An escape sequence or a surrogate pair is never split across two segments; a
boundary that would split one pushes the whole character into the next
segment, so it is counted that way here.

Everything in this module is a pure function of its arguments.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67
WHATSAPP_MAX_CHARS = 4096

Encoding = Literal["GSM-7", "UCS-2"]
Channel = Literal["sms", "whatsapp"]

# Invisible characters that carry no meaning in a text message; removed from any text.
_HARMLESS_INVISIBLE = {"\u200b": "", "\ufeff": "", "\u2060": "", "\u00ad": ""}

# Look-alikes that force UCS-2 for no visible gain. Applied only when the whole text then
# becomes GSM-7, so a text that needs UCS-2 anyway (Amharic, Hindi, emoji...) keeps them.
_GSM_LOOKALIKES = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u2039\u203a", "'"),  # curly and prime quotes
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),  # double quotes, guillemets
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # hyphens, dashes, minus
    **dict.fromkeys("\u2022\u2023\u2043", "-"),  # bullets
    **dict.fromkeys(
        "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t", " "
    ),  # non-breaking, typographic and ideographic spaces
    **dict.fromkeys("\u200c\u200d", ""),  # zero-width (non-)joiners, meaningless in GSM-7 text
    "\u2026": "...",
}
_INVISIBLE_TABLE = str.maketrans(_HARMLESS_INVISIBLE)
_LOOKALIKE_TABLE = str.maketrans(_GSM_LOOKALIKES)

# Sentence ends: Latin punctuation, Arabic question mark, Devanagari danda, Ethiopic full
# stop, CJK full stop; optionally followed by closing quotes or brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?…؟।።。][\"'”’»)\]]*(?=\s)|\n")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class SegmentInfo:
    """How a carrier will bill and split a text.

    ``units`` is septets for GSM-7 and UTF-16 code units for UCS-2.
    ``per_segment`` is the capacity that applies (single or concatenated).
    """

    encoding: Encoding
    units: int
    segments: int
    per_segment: int
    remaining_in_last: int


def is_gsm7(text: str) -> bool:
    """True when every character can be sent in the GSM-7 alphabet (with extensions)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def non_gsm7_chars(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of appearance (for editor hints)."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            seen.setdefault(ch)
    return list(seen)


def _unit_widths(text: str) -> tuple[Encoding, list[int]]:
    if is_gsm7(text):
        return "GSM-7", [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def segment_info(text: str) -> SegmentInfo:
    """Count segments the way carriers do; an empty text is zero segments (nothing to send)."""
    encoding, widths = _unit_widths(text)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    units = sum(widths)
    if units <= single:
        return SegmentInfo(encoding, units, 1 if units else 0, single, single - units)
    segments, fill = 1, 0
    for width in widths:
        if fill + width > multi:  # never split an escape sequence or a surrogate pair
            segments, fill = segments + 1, 0
        fill += width
    return SegmentInfo(encoding, units, segments, multi, multi - fill)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the conservative way to count WhatsApp's limit."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def gsm_safe(text: str) -> str:
    """Replace look-alike characters that would force UCS-2, when that makes the text GSM-7.

    A single curly quote from a word processor would otherwise cut a message's capacity
    from 160 to 70 characters and triple its cost. The replacements never change meaning,
    and a text that needs UCS-2 anyway is left as written, apart from harmless invisible
    characters (zero-width space, byte-order mark, word joiner, soft hyphen).
    """
    cleaned = text.translate(_INVISIBLE_TABLE)
    candidate = cleaned.translate(_LOOKALIKE_TABLE)
    return candidate if is_gsm7(candidate) else cleaned


def fits_sms(text: str, segment_budget: int) -> bool:
    """True when the text, as written, is at most ``segment_budget`` segments."""
    return segment_info(text).segments <= segment_budget


def fits_whatsapp(text: str) -> bool:
    """True when the text is within WhatsApp's per-message limit (UTF-16 code units)."""
    return utf16_length(text) <= WHATSAPP_MAX_CHARS


def compose(text: str, channel: Channel, segment_budget: int = 3) -> list[str]:
    """Turn one reply into the messages to send on ``channel``, in order.

    SMS text is normalised with :func:`gsm_safe` first. A text over the limit is split
    at sentence boundaries, else at word boundaries, else (one enormous word) between
    characters, never inside a surrogate pair, escape sequence or combining sequence.
    Whitespace at the cut is dropped; no other text is lost and the order is kept.
    """
    fits: Callable[[str], bool]
    if channel == "sms":
        if segment_budget < 1:
            raise ValueError("segment_budget must be at least 1")
        body = gsm_safe(text)

        def fits_budget(part: str) -> bool:
            return fits_sms(part, segment_budget)

        fits = fits_budget

    elif channel == "whatsapp":
        body, fits = text, fits_whatsapp
    else:
        raise ValueError(f"unknown channel {channel!r}")
    return split_to_fit(body, fits)


def split_to_fit(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Split ``text`` into stripped parts that each satisfy ``fits``, preferring natural cuts.

    ``fits`` must be monotonic (a prefix of a fitting text fits too) and accept any
    single character, which holds for both the SMS and WhatsApp limits.
    """
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if fits(rest):
            parts.append(rest)
            break
        cut = _best_cut(rest, fits)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def _best_cut(text: str, fits: Callable[[str], bool]) -> int:
    for candidates in (_sentence_cuts(text), _word_cuts(text), _char_cuts(text)):
        cut = _last_fitting(text, candidates, fits)
        if cut is not None:
            return cut
    raise ValueError("the limit does not admit even one character")


def _last_fitting(text: str, cuts: list[int], fits: Callable[[str], bool]) -> int | None:
    """The largest cut whose (non-empty) prefix fits, by binary search over sorted cuts."""
    cuts = [c for c in cuts if text[:c].strip()]
    lo, hi, best = 0, len(cuts) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(text[: cuts[mid]].rstrip()):
            best, lo = cuts[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _sentence_cuts(text: str) -> list[int]:
    cuts = set()
    for m in _SENTENCE_END.finditer(text):
        line = text[text.rfind("\n", 0, m.start()) + 1:m.start()].strip()
        if line.isdigit():
            continue  # "9." numbers a menu item: the item goes on after it
        cuts.add(m.end())
    return sorted(cuts)


def _word_cuts(text: str) -> list[int]:
    return [m.start() for m in _SPACE.finditer(text)]


def _char_cuts(text: str) -> list[int]:
    return [i for i in range(1, len(text)) if not _joins_previous(text[i - 1], text[i])]


def _joins_previous(before: str, ch: str) -> bool:
    """True when ``ch`` belongs to the same visible character as ``before``."""
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
        or "\U000e0020" <= ch <= "\U000e007f"
        or before == "\u200d"
    )
