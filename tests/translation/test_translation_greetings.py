"""A first message that is only a greeting names its language, however short it is."""

from __future__ import annotations

import pytest

from translation.greetings import greeting_language


@pytest.mark.parametrize("text, lang", [
    ("Habari", "sw"), ("habari yako?", "sw"), ("Hujambo!", "sw"), ("Hola", "es"), ("buenos días", "es"),
    ("Bonjour !", "fr"), ("नमस्ते", "hi"), ("namaste", "hi"), ("مرحبا", "ar"), ("السلام عليكم", "ar"),
    ("Hi", "en"), ("Good morning", "en"), ("Sannu", "ha"), ("Ẹ káàrọ̀", "yo"), ("Sawubona", "zu"), ("ሰላም", "am"),
    ("Olá", "pt"), ("Iska warran", "so"),
])
def test_a_greeting_names_its_language(text: str, lang: str) -> None:
    assert greeting_language(text) == lang


@pytest.mark.parametrize("text", ["ok", "salaam", "1", "Habari, sina usingizi kabisa usiku", "", "hi hi hi hi"])
def test_anything_but_a_greeting_of_one_language_names_none(text: str) -> None:
    assert greeting_language(text) is None


def test_only_the_languages_a_deployment_serves_count() -> None:
    assert greeting_language("Hola", ["en", "sw"]) is None
    assert greeting_language("Habari", ["en", "sw-KE"]) == "sw"
