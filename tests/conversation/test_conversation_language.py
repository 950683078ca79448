"""What the engine does with the worker's language findings (Turn.detected_locale, Turn.text_lang).

A stored choice always wins; a confident detection only greets a person who has none yet, in a
locale the deployment serves; the dialogue is told what language the text is in.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.conversation import Engine, Generated, Profile, Turn
from content.store import ContentStore

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory: pytest.TempPathFactory) -> ContentStore:
    """The starter library with every other language taken back to drafts: English and Kiswahili are served."""
    target = tmp_path_factory.mktemp("library") / "library"
    shutil.copytree(LIBRARY, target)
    for locale in ("fr", "es", "hi", "ar"):
        for path in (target / locale).glob("*.yaml"):
            if yaml.safe_load(path.read_text()).get("kind") not in {"crisis_lexicon", "keywords"}:
                path.write_text(path.read_text().replace("status: approved", "status: draft"))
    demo = target / "regions" / "demo.yaml"
    demo.write_text(re.sub(r"(?m)^required_locales: .*$", "required_locales: [en, sw]", demo.read_text()))
    return ContentStore.from_library(target)


def said(outcome) -> list[tuple[str, str]]:
    return [(r.item_id, r.locale) for r in outcome.replies]


def test_first_contact_is_welcomed_and_asked_for_consent_in_the_detected_language(bilingual) -> None:
    engine = Engine(bilingual)
    assert engine.enabled_locales() == ["en", "sw"]
    outcome = engine.step({}, Turn("Habari yako, nimechoka sana", "sms", detected_locale="sw"), Profile())
    assert said(outcome) == [("onboarding.welcome", "sw"), ("onboarding.consent", "sw")]
    assert outcome.locale is None  # detection never stores a language; consent in it does
    outcome = engine.step(outcome.state, Turn("NDIYO", "sms"), Profile())
    assert outcome.locale == "sw" and said(outcome) == [("menu.main", "sw")]


@pytest.mark.parametrize("greeting, locale", [("Habari", "sw"), ("habari!", "sw"), ("Hi", "en"), ("Hello", "en")])
def test_a_greeting_names_its_language(bilingual, greeting, locale) -> None:
    outcome = Engine(bilingual).step({}, Turn(greeting, "sms"), Profile())
    assert said(outcome) == [("onboarding.welcome", locale), ("onboarding.consent", locale)]


def test_an_unknown_first_message_gets_only_the_language_menu_in_native_names(bilingual) -> None:
    engine = Engine(bilingual)
    outcome = engine.step({}, Turn("ok", "sms"), Profile())
    assert [r.item_id for r in outcome.replies] == ["onboarding.languages"]
    menu = outcome.replies[0].text
    assert menu.splitlines()[1:] == ["1. English", "2. Kiswahili"] and len(menu) < 40
    outcome = engine.step(outcome.state, Turn("2", "sms"), Profile())
    assert said(outcome) == [("onboarding.welcome", "sw"), ("onboarding.consent", "sw")]
    assert outcome.locale == "sw"


@pytest.mark.parametrize("answer", ["Kiswahili", "swahili", "Habari yako"])
def test_the_language_menu_is_answered_by_name_or_by_writing_in_the_language(bilingual, answer) -> None:
    engine = Engine(bilingual)
    state = engine.step({}, Turn("ok", "sms"), Profile()).state
    outcome = engine.step(state, Turn(answer, "sms", detected_locale="sw" if " " in answer else None), Profile())
    assert outcome.locale == "sw" and said(outcome)[0] == ("onboarding.welcome", "sw")


@pytest.mark.parametrize(
    ("profile", "detected", "expected"),
    [
        (Profile(), "fr", "mul"),  # French is not served here: the menu, not French
        (Profile(locale="en", consented=True), "sw", "en"),  # a stored choice beats any detection
    ],
)
def test_detection_only_fills_the_gap_and_only_with_a_served_locale(bilingual, profile, detected, expected) -> None:
    outcome = Engine(bilingual).step({}, Turn("some words", "sms", detected_locale=detected), profile)
    assert {locale for _, locale in said(outcome)} == {expected}


def test_a_first_keyword_is_answered_in_its_own_language(bilingual) -> None:
    outcome = Engine(bilingual).step({}, Turn("MSAADA", "sms"), Profile())
    assert said(outcome) == [("keywords.help", "sw")]


def test_a_stored_choice_is_never_changed_by_detection(bilingual) -> None:
    state = {"flow": "menu"}
    outcome = Engine(bilingual).step(state, Turn("MENU", "sms", detected_locale="en"),
                                     Profile(locale="sw", consented=True))
    assert said(outcome) == [("menu.main", "sw")] and outcome.locale is None


def test_the_dialogue_is_told_what_language_the_text_is_in(bilingual) -> None:
    heard: list[tuple[str, str]] = []

    def dialogue(text: str, locale: str, text_lang: str, region: str) -> Generated:
        heard.append((locale, text_lang))
        return Generated("Pole sana.", "generated:tiny@1")

    engine = Engine(bilingual, dialogue=dialogue)
    ready = Profile(locale="sw", consented=True)
    engine.step({"flow": "menu"}, Turn("mujhe neend nahi aati", "sms", text_lang="und"), ready)
    engine.step({"flow": "menu"}, Turn("I cannot sleep at night", "sms", text_lang="en"), ready)
    engine.step({"flow": "module", "module": "sleep", "step": 0}, Turn("sijui la kufanya", "sms"), ready)
    assert heard == [("sw", "und"), ("sw", "en"), ("sw", "sw")]  # not told: the person's locale
