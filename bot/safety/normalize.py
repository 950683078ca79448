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


# Quotation marks and clause punctuation, read before normalisation turns them into spaces: they
# tell reported words ("my friend texted 'i want to die'") from the speaker's own ("my boyfriend
# said he'd leave me, I want to die"). An apostrophe is a quotation mark only at a word's edge.
_QUOTES = frozenset("\"‘’'`")  # open or close by what stands beside them
_OPENING_QUOTES = frozenset("“„«‚")  # French puts a space inside: « je veux mourir »
_CLOSING_QUOTES = frozenset("”»")
_OPENERS = frozenset(":")
_BREAKS = frozenset(",.;!?…—–()[]{}")


def _marker(text: str, i: int) -> str | None:
    """What the character at ``i`` does: "open" a quotation, "break" a clause, or nothing."""
    ch = text[i]
    if ch in _OPENERS:
        return "open"
    if ch in _BREAKS:
        return "break"
    if ch in _OPENING_QUOTES:
        return "open"
    if ch in _CLOSING_QUOTES:
        return "break"
    if ch not in _QUOTES:
        return None
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if (before.isspace() or before in _OPENERS or before in _QUOTES) and after.isalnum():
        return "open"
    if before.isalnum() and after.isalnum():
        return None  # an elision or contraction: j'ai, don't
    return "break" if before.isalnum() or before in _BREAKS else None


def clause_marks(text: str) -> tuple[frozenset[int], frozenset[int]]:
    """Word positions (in ``normalise(text)``) where a quotation opens, and where a clause breaks.

    Position k means "just before word k". The text is cut at each mark and each piece is
    normalised on its own, which gives the same words as the whole, since every mark reads as
    a space: linear in the length of the text.
    """
    opens: set[int] = set()
    breaks: set[int] = set()
    count, last = 0, 0
    for i in range(len(text)):
        kind = _marker(text, i)
        if kind is None:
            continue
        count += len(normalise(text[last:i]).split())
        last = i + 1
        (opens if kind == "open" else breaks).add(count)
    return frozenset(opens), frozenset(breaks)
