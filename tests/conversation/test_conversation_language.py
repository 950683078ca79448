"""What the engine does with the worker's language findings (Turn.detected_locale, Turn.text_lang).

A stored choice always wins; a confident detection only greets a person who has none yet, in a
locale the deployment serves; the dialogue is told what language the text is in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.conversation import Engine, Generated, Profile, Turn
from content.store import ContentStore

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory: pytest.TempPathFactory) -> ContentStore:
    """The starter library with its Swahili drafts approved: English and Kiswahili are served."""
    target = tmp_path_factory.mktemp("library") / "library"
    shutil.copytree(LIBRARY, target)
    for path in (target / "sw").glob("*.yaml"):
        if yaml.safe_load(path.read_text()).get("kind") != "crisis_lexicon":
            path.write_text(path.read_text().replace("status: draft", "status: approved"))
    return ContentStore.from_library(target)


def said(outcome) -> list[tuple[str, str]]:
    return [(r.item_id, r.locale) for r in outcome.replies]


def test_first_contact_is_welcomed_in_the_detected_language_and_still_offered_the_choice(bilingual) -> None:
    engine = Engine(bilingual)
    assert set(engine.enabled_locales()) == {"en", "sw"}
    outcome = engine.step({}, Turn("Habari yako, nimechoka sana", "sms", detected_locale="sw"), Profile())
    assert said(outcome) == [("onboarding.welcome", "sw"), ("onboarding.choose_language", "sw")]
    assert "English" in outcome.replies[1].text and "Kiswahili" in outcome.replies[1].text
    assert outcome.locale is None  # detection never stores a language; the person picks


@pytest.mark.parametrize(
    ("profile", "detected", "expected"),
    [
        (Profile(), None, "en"),  # nothing detected: the library default
        (Profile(), "fr", "en"),  # French is not served here (its wording is not approved)
        (Profile(locale="en"), "sw", "en"),  # a stored choice beats any detection
    ],
)
def test_detection_only_fills_the_gap_and_only_with_a_served_locale(bilingual, profile, detected, expected) -> None:
    outcome = Engine(bilingual).step({}, Turn("some words", "sms", detected_locale=detected), profile)
    assert {locale for _, locale in said(outcome)} == {expected}


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
