"""Text normalisation shared by lexicon patterns and incoming messages.

People in crisis type fast, on cheap phones, in mixed scripts. The same
normaliser runs over lexicon patterns and over messages, so a curator writes
"suicídio" once and the gate still matches "SUICIDIO", "suicidiooo" and
"su1cidio". The output is a string of space-separated tokens with a space at
each end, which makes whole-token matching a plain substring search.
"""

from __future__ import annotations

import re
import unicodedata

# Apostrophes of every kind are dropped so "don't", "dont" and "don’t" agree,
# and French elisions ("j'ai") meet their SMS spelling ("jai").
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´ʻ"), None)

# Arabic: short vowels, shadda, sukun and tatweel are optional in writing;
# the hamza-carrying alef forms, alef maqsura and ta marbuta vary in SMS.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})

# Hausa hooked letters are often typed plain on phones without them.
_HAUSA_LETTERS = str.maketrans({"ɓ": "b", "ɗ": "d", "ƙ": "k", "ƴ": "y"})

# Devanagari: nukta is often omitted and chandrabindu typed as anusvara.
_DEVANAGARI = str.maketrans({"\u093c": None, "\u0901": "\u0902"})

# Ge'ez script has homophone series that Amharic writers use interchangeably
# (ሀ/ሐ/ኀ, ሰ/ሠ, አ/ዐ, ጸ/ፀ); fold each onto one series, keeping the vowel order.
_GEEZ_FOLDS = ((0x1210, 0x1200, 8), (0x1280, 0x1200, 8), (0x1220, 0x1230, 8), (0x12D0, 0x12A0, 7), (0x1340, 0x1338, 7))
_GEEZ = str.maketrans({src + i: dst + i for src, dst, n in _GEEZ_FOLDS for i in range(n)})

# Leetspeak and SMS substitutions inside words ("k1ll", "d3ad", "$uicide").
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}

_REPEATS = re.compile(r"([^\W\d_])\1+")
_SPACES = re.compile(r"\s+")


def _strip_latin_accents(text: str) -> str:
    """Drop combining accents (U+0300-036F) but keep other scripts' vowel signs."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not ("\u0300" <= ch <= "\u036f"))
    return unicodedata.normalize("NFC", kept)


_LEETY = re.compile("[" + re.escape("".join(_LEET)) + "]")


def _deleet_token(token: str) -> str:
    """Decode leetspeak in a token that has letters; "!" only between letters."""
    if not _LEETY.search(token) or not any(ch.isalpha() for ch in token):
        return token
    out = []
    for i, ch in enumerate(token):
        if ch == "!":
            inside = 0 < i < len(token) - 1 and token[i - 1].isalpha() and token[i + 1].isalpha()
            out.append("i" if inside else ch)
        else:
            out.append(_LEET.get(ch, ch))
    return "".join(out)


class _TokenTable(dict):  # type: ignore[type-arg]
    """``str.translate`` table built lazily: one category lookup per distinct character."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        cat = unicodedata.category(ch)
        if cat[0] in "PZ" or cat in {"Sm", "Sc", "Sk", "Cc"}:
            out: str | None = " "
        elif cat == "So":
            out = f" {ch} "  # an emoji is a word of its own ("💊")
        elif cat in {"Cf", "Cn", "Co", "Cs"} or ch == "\ufe0f":
            out = None  # zero-width joiners, variation selectors, unassigned
        else:
            out = ch
        self[code] = out
        return out


_TOKENS = _TokenTable()


def _tokenise(text: str) -> str:
    return text.translate(_TOKENS)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_APOSTROPHES)
    text = _strip_latin_accents(text)
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    return text.translate(_HAUSA_LETTERS).translate(_DEVANAGARI).translate(_GEEZ)


def _finish(text: str) -> str:
    text = _tokenise(text)
    text = _REPEATS.sub(r"\1", text)
    return " " + _SPACES.sub(" ", text).strip() + " "


def normalise(text: str) -> str:
    """The canonical matching form: folded, tokenised, repeated letters squeezed.

    Repeated letters collapse to one ("dieeee" -> "die", but also "kill" ->
    "kil"); patterns go through the same function, so both sides agree.
    """
    return _finish(_fold(text))


def variants(text: str) -> tuple[str, ...]:
    """The forms a message is matched in: plain, and with leetspeak decoded.

    Both are kept because SMS digits are ambiguous: "k1ll" needs decoding but
    "4ever" and "2nite" must stay as typed.
    """
    folded = _fold(text)
    plain = _finish(folded)
    decoded = _finish(" ".join(_deleet_token(tok) for tok in folded.split()))
    return (plain,) if decoded == plain else (plain, decoded)


def tokens(normalised: str) -> list[str]:
    """Split a normalised string into its tokens."""
    return normalised.split()
