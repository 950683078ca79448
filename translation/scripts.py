"""Unicode script of a text, and the languages each script allows.

Statistical detectors are unreliable on three-word messages, but the writing system is not:
Ethiopic letters mean Amharic or Tigrinya, Tamil letters mean Tamil. Language ID uses the
dominant script to narrow (or settle) the candidates before it weighs the detectors.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

from translation.errors import UnknownLanguage
from translation.languages import normalize, to_flores

# (first code point, last code point, script) for the blocks our users write in. Latin and
# Cyrillic are found through unicodedata names because their letters are spread over many
# blocks (combining marks and Yoruba dots included).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "Grek"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x08A0, 0x08FF, "Arab"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"),
    (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0C00, 0x0C7F, "Telu"),
    (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"),
    (0x0D80, 0x0DFF, "Sinh"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"),
    (0x1000, 0x109F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1200, 0x139F, "Ethi"),
    (0x2D80, 0x2DDF, "Ethi"),
    (0xAB00, 0xAB2F, "Ethi"),
    (0x1780, 0x17FF, "Khmr"),
    (0x2D30, 0x2D7F, "Tfng"),
    (0x3040, 0x309F, "Jpan"),
    (0x30A0, 0x30FF, "Jpan"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xAC00, 0xD7AF, "Hang"),
    (0x1100, 0x11FF, "Hang"),
)

# Languages a script allows, most widely written first. A script with one language settles
# the question; a script with several narrows it for the detectors. Latin is absent on
# purpose: it allows nearly everything.
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Ethi": ("am", "ti"),
    "Deva": ("hi", "mr", "ne", "sa"),
    "Arab": ("ar", "ur", "fa", "ps", "sd", "ckb", "ug", "ks"),
    "Beng": ("bn", "as"),
    "Taml": ("ta",),
    "Telu": ("te",),
    "Knda": ("kn",),
    "Mlym": ("ml",),
    "Gujr": ("gu",),
    "Guru": ("pa",),
    "Orya": ("or",),
    "Sinh": ("si",),
    "Thai": ("th",),
    "Laoo": ("lo",),
    "Khmr": ("km",),
    "Mymr": ("my",),
    "Geor": ("ka",),
    "Armn": ("hy",),
    "Hebr": ("he", "yi"),
    "Grek": ("el",),
    "Hang": ("ko",),
    "Jpan": ("ja",),
    "Hani": ("zh", "ja"),
    "Tibt": ("bo", "dz"),
    "Tfng": ("zgh",),
    "Cyrl": ("ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tg", "tt", "ba"),
}


def char_script(ch: str) -> str | None:
    """ISO 15924 code of one letter's script, or None for digits, marks, symbols, spaces."""
    cp = ord(ch)
    for start, end, script in _RANGES:
        if start <= cp <= end:
            return script if ch.isalpha() else None
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "Latn"
    if name.startswith("CYRILLIC"):
        return "Cyrl"
    return "Zyyy"


@dataclass(frozen=True)
class ScriptProfile:
    """Letter counts per script in a text, with the dominant one and its share."""

    counts: dict[str, int]
    letters: int
    dominant: str | None
    share: float

    @property
    def languages(self) -> tuple[str, ...] | None:
        """Languages the dominant script allows, or None when it does not narrow them."""
        if self.dominant is None:
            return None
        return SCRIPT_LANGUAGES.get(self.dominant)


def profile(text: str) -> ScriptProfile:
    """Count letters by script. Japanese kana next to Han characters make the text Japanese."""
    counts: Counter[str] = Counter()
    for ch in text:
        script = char_script(ch)
        if script is not None:
            counts[script] += 1
    letters = sum(counts.values())
    if not letters:
        return ScriptProfile({}, 0, None, 0.0)
    if counts.get("Jpan") and counts.get("Hani"):
        counts["Jpan"] += counts.pop("Hani")
    dominant, top = counts.most_common(1)[0]
    return ScriptProfile(dict(counts), letters, dominant, top / letters)


# FLORES-200 script codes that char_script reports under another name.
_FLORES_SCRIPTS = {"Hans": "Hani", "Hant": "Hani"}


def language_scripts(tag: str) -> frozenset[str]:
    """The scripts a language is normally written in, as ``char_script`` names them.

    An explicit script subtag decides ("hi-Latn" is Latin, "zh-Hant" Han). Otherwise the
    language's FLORES-200 script (what an NLLB or OPUS-MT model was trained to read) and every
    script that lists the language above; a language in neither is taken to be Latin-written.
    """
    canonical = normalize(tag)
    subtags = canonical.split("-")
    explicit = next((part for part in subtags[1:] if len(part) == 4 and part.isalpha()), None)
    if explicit is not None:
        return frozenset({_FLORES_SCRIPTS.get(explicit, explicit)})
    found = {script for script, langs in SCRIPT_LANGUAGES.items() if subtags[0] in langs}
    try:
        flores_script = to_flores(subtags[0]).split("_")[1]
    except UnknownLanguage:
        flores_script = None
    if flores_script is not None:
        found.add(_FLORES_SCRIPTS.get(flores_script, flores_script))
    return frozenset(found or {"Latn"})


def written_in(tag: str, script: str | None) -> bool:
    """Whether text in ``script`` can be read as language ``tag`` (a text without letters can).

    Romanised Hindi ("mujhe neend nahi aati") is not written in Hindi's script: a model trained
    on Devanagari would read it as noise.
    """
    return script is None or script in language_scripts(tag)
