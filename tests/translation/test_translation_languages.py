"""Language tags, FLORES-200 codes and native names for menus."""

import pytest

from translation.errors import UnknownLanguage
from translation.languages import from_flores, native_name, normalize, same_language, to_bcp47, to_flores


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("sw", "swh_Latn"), ("ha", "hau_Latn"), ("hi", "hin_Deva"), ("am", "amh_Ethi"),
        ("ar", "arb_Arab"), ("es", "spa_Latn"), ("fr", "fra_Latn"), ("en", "eng_Latn"),
        ("yo", "yor_Latn"), ("zu", "zul_Latn"), ("so", "som_Latn"), ("ti", "tir_Ethi"),
        ("sw-KE", "swh_Latn"), ("SW", "swh_Latn"), ("pt_BR", "por_Latn"), ("zh-Hant", "zho_Hant"),
    ],
)  # fmt: skip
def test_bcp47_maps_to_the_flores_code_nllb_expects(tag: str, code: str) -> None:
    assert to_flores(tag) == code


def test_flores_codes_map_back_and_pass_through() -> None:
    assert from_flores("swh_Latn") == "sw"
    assert to_bcp47("hau_Latn") == "ha"
    assert to_flores("yor_Latn") == "yor_Latn"


def test_unknown_languages_are_named_in_the_error() -> None:
    with pytest.raises(UnknownLanguage, match="qqq"):
        to_flores("qqq")
    with pytest.raises(UnknownLanguage):
        normalize("not a tag")


def test_regional_variants_are_the_same_language() -> None:
    assert normalize("pt_br") == "pt-BR"
    assert same_language("sw-KE", "sw")
    assert not same_language("sw", "so")


@pytest.mark.parametrize(
    ("tag", "name"),
    [("sw", "Kiswahili"), ("es", "Español"), ("hi", "हिन्दी"), ("fr", "Français"),
     ("zu", "isiZulu"), ("am", "አማርኛ"), ("ar", "العربية"), ("ha", "Hausa")],
)  # fmt: skip
def test_menus_show_each_language_in_its_own_words(tag: str, name: str) -> None:
    assert native_name(tag) == name
