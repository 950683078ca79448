"""Language tags: BCP-47 as used across Tumaini, FLORES-200 codes for NLLB, native names.

The rest of the service speaks BCP-47 ("sw", "hi", "pt-BR"). NLLB-style models want FLORES-200
codes ("swh_Latn") as language tokens, so the mapping lives here, in one table, where a
community adding a language can extend it. Menus show each language in its own words
("Kiswahili", "Español", "हिन्दी") because a person who cannot read the current language
must still find their own.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from translation.errors import UnknownLanguage

# BCP-47 language (optionally with script) -> FLORES-200 code used by NLLB-200.
# Where a macrolanguage has several FLORES varieties we pick the one people in our settings
# write: Swahili -> Kiswahili (swh), Arabic -> Modern Standard (arb), Oromo -> West Central
# (gaz), Fula -> Nigerian Fulfulde (fuv), Malagasy -> Plateau (plt), Persian -> Western (pes).
FLORES: dict[str, str] = {
    "af": "afr_Latn", "ak": "aka_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "as": "asm_Beng",
    "ay": "ayr_Latn", "az": "azj_Latn", "ba": "bak_Cyrl", "be": "bel_Cyrl", "bem": "bem_Latn",
    "bg": "bul_Cyrl", "bm": "bam_Latn", "bn": "ben_Beng", "bo": "bod_Tibt", "bs": "bos_Latn",
    "ca": "cat_Latn", "ceb": "ceb_Latn", "ckb": "ckb_Arab", "cs": "ces_Latn", "cy": "cym_Latn",
    "da": "dan_Latn", "de": "deu_Latn", "din": "dik_Latn", "dz": "dzo_Tibt", "ee": "ewe_Latn",
    "el": "ell_Grek", "en": "eng_Latn", "eo": "epo_Latn", "es": "spa_Latn", "et": "est_Latn",
    "eu": "eus_Latn", "fa": "pes_Arab", "ff": "fuv_Latn", "fi": "fin_Latn", "fil": "tgl_Latn",
    "fj": "fij_Latn", "fo": "fao_Latn", "fon": "fon_Latn", "fr": "fra_Latn", "ga": "gle_Latn",
    "gd": "gla_Latn", "gl": "glg_Latn", "gn": "grn_Latn", "gu": "guj_Gujr", "ha": "hau_Latn",
    "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn", "ht": "hat_Latn", "hu": "hun_Latn",
    "hy": "hye_Armn", "id": "ind_Latn", "ig": "ibo_Latn", "ilo": "ilo_Latn", "is": "isl_Latn",
    "it": "ita_Latn", "ja": "jpn_Jpan", "jv": "jav_Latn", "ka": "kat_Geor", "kam": "kam_Latn",
    "kab": "kab_Latn", "kg": "kon_Latn", "ki": "kik_Latn", "kk": "kaz_Cyrl", "km": "khm_Khmr",
    "kmb": "kmb_Latn", "kn": "kan_Knda", "ko": "kor_Hang", "ks": "kas_Arab", "ku": "kmr_Latn",
    "ky": "kir_Cyrl", "lb": "ltz_Latn", "lg": "lug_Latn", "ln": "lin_Latn", "lo": "lao_Laoo",
    "lt": "lit_Latn", "lua": "lua_Latn", "luo": "luo_Latn", "lv": "lvs_Latn", "mg": "plt_Latn",
    "mi": "mri_Latn", "mk": "mkd_Cyrl", "ml": "mal_Mlym", "mn": "khk_Cyrl", "mos": "mos_Latn",
    "mr": "mar_Deva", "ms": "zsm_Latn", "mt": "mlt_Latn", "my": "mya_Mymr", "ne": "npi_Deva",
    "nl": "nld_Latn", "nb": "nob_Latn", "nn": "nno_Latn", "no": "nob_Latn", "nso": "nso_Latn",
    "nus": "nus_Latn", "ny": "nya_Latn", "oc": "oci_Latn", "om": "gaz_Latn", "or": "ory_Orya",
    "pa": "pan_Guru", "pap": "pap_Latn", "pl": "pol_Latn", "prs": "prs_Arab", "ps": "pbt_Arab",
    "pt": "por_Latn", "qu": "quy_Latn", "rn": "run_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl",
    "rw": "kin_Latn", "sa": "san_Deva", "sd": "snd_Arab", "sg": "sag_Latn", "si": "sin_Sinh",
    "sk": "slk_Latn", "sl": "slv_Latn", "sm": "smo_Latn", "sn": "sna_Latn", "so": "som_Latn",
    "sq": "als_Latn", "sr": "srp_Cyrl", "ss": "ssw_Latn", "st": "sot_Latn", "su": "sun_Latn",
    "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu", "tg": "tgk_Cyrl",
    "th": "tha_Thai", "ti": "tir_Ethi", "tk": "tuk_Latn", "tl": "tgl_Latn", "tn": "tsn_Latn",
    "tpi": "tpi_Latn", "tr": "tur_Latn", "ts": "tso_Latn", "tt": "tat_Cyrl", "tum": "tum_Latn",
    "tw": "twi_Latn", "ug": "uig_Arab", "uk": "ukr_Cyrl", "umb": "umb_Latn", "ur": "urd_Arab",
    "uz": "uzn_Latn", "vi": "vie_Latn", "war": "war_Latn", "wo": "wol_Latn", "xh": "xho_Latn",
    "yi": "ydd_Hebr", "yo": "yor_Latn", "yue": "yue_Hant", "zh": "zho_Hans",
    "zh-Hans": "zho_Hans", "zh-Hant": "zho_Hant", "zu": "zul_Latn",
}  # fmt: skip

_FLORES_TO_BCP47: dict[str, str] = {}
for _tag, _code in FLORES.items():
    _FLORES_TO_BCP47.setdefault(_code, _tag)

_FLORES_RE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")
_TAG_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def normalize(tag: str) -> str:
    """Canonical form of a BCP-47 tag: lower-case language, title-case script, upper region.

    Inputs come from people, spreadsheets and Twilio ("SW", "pt_br", "zh-hant"); comparing
    them without normalising would treat one language as two.
    """
    raw = tag.strip().replace("_", "-")
    if not raw or not _TAG_RE.match(raw):
        raise UnknownLanguage(f"not a language tag: {tag!r}")
    parts = raw.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) in (2, 3):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def base_language(tag: str) -> str:
    """The language subtag alone: "hi" for "hi-Latn", "pt" for "pt-BR"."""
    return normalize(tag).split("-")[0]


def same_language(a: str, b: str) -> bool:
    """Whether two tags name the same language, ignoring region and script."""
    return base_language(a) == base_language(b)


def is_flores(code: str) -> bool:
    """Whether a code already has FLORES-200 form (``xxx_Xxxx``)."""
    return bool(_FLORES_RE.match(code))


def to_flores(tag: str) -> str:
    """FLORES-200 code for a BCP-47 tag; raises UnknownLanguage when the table lacks it."""
    if is_flores(tag):
        return tag
    canonical = normalize(tag)
    for candidate in (canonical, "-".join(canonical.split("-")[:2]), base_language(canonical)):
        if candidate in FLORES:
            return FLORES[candidate]
    raise UnknownLanguage(f"no FLORES-200 code for {tag!r}; add it to translation.languages.FLORES")


def from_flores(code: str) -> str:
    """BCP-47 tag for a FLORES-200 code; unknown codes fall back to their ISO 639-3 part."""
    if code in _FLORES_TO_BCP47:
        return _FLORES_TO_BCP47[code]
    if not is_flores(code):
        raise UnknownLanguage(f"not a FLORES-200 code: {code!r}")
    return code.split("_")[0]


def to_bcp47(code: str) -> str:
    """Accept either form (manifests may list either) and return a normalised BCP-47 tag."""
    return from_flores(code) if is_flores(code) else normalize(code)


def _menu_case(name: str) -> str:
    # CLDR gives language names in running-text case ("español"); a menu item starts a line,
    # so the first letter is raised, except in names like "isiZulu" or "chiShona" whose
    # lower-case prefix is part of the name.
    first_word = name.split(" ")[0]
    if name[:1].islower() and not any(ch.isupper() for ch in first_word[1:]):
        return name[:1].upper() + name[1:]
    return name


@lru_cache(maxsize=512)
def native_name(tag: str) -> str:
    """The language's name in that language, as a menu shows it: "Kiswahili", "Español".

    Falls back to the English name, then to the tag itself, so a menu never loses an entry.
    """
    canonical = normalize(tag)
    try:
        locale = Locale.parse(canonical, sep="-")
    except (UnknownLocaleError, ValueError):
        try:
            locale = Locale.parse(base_language(canonical))
        except (UnknownLocaleError, ValueError):
            return canonical
    name = locale.get_display_name(locale) or Locale("en").languages.get(locale.language)
    return _menu_case(name) if name else canonical
