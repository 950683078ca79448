"""Machine translation in the portal: when a translation is wanted at all."""

from __future__ import annotations

import pytest

from bot.portal import machine


@pytest.mark.parametrize(
    ("src", "reader", "wanted"),
    [
        ("sw", "en", True),
        ("sw-KE", "sw", False),
        ("EN", "en", False),
        ("zh-Hant", "zh", False),
        ("pt_BR", "es", True),
        (None, "en", False),
        ("", "en", False),
        ("not a tag", "en", True),
    ],
)
def test_a_machine_translation_is_wanted_only_across_languages(src, reader, wanted):
    assert machine.wanted(src, reader) is wanted
