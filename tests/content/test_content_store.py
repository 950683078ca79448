"""The ContentStore API the conversation engine calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from content.errors import ContentInvalid, ContentMissing, ContentNotApproved, MissingValue
from content.render import format_helplines, format_menu
from content.schema import (
    Glossary,
    KeywordSet,
    Message,
    Module,
    Provenance,
    Screening,
    Settings,
    Status,
    Text,
)
from content.store import ContentStore

AUTHOR = Provenance(author="Test author")


def text(
    locale: str, sms: str, status: Status = Status.APPROVED, version: int = 1, whatsapp: str | None = None
) -> Text:
    return Text(locale, version, status, sms, AUTHOR, whatsapp)


@pytest.fixture
def store() -> ContentStore:
    greeting = Message(
        "greet",
        "en",
        (
            text("en", "Hello {name}.", whatsapp="*Hello* {name}!"),
            text("sw", "Habari {name}."),
            text("fr", "Bonjour {name}.", Status.DRAFT),
            text("es", "Hola {name}.", Status.APPROVED, 1),
            text("es", "¡Hola, {name}!", Status.DRAFT, 2),
        ),
    )
    swahili_first = Message("sw.only", "sw", (text("sw", "Karibu."),))
    unreviewed = Message("draft.only", "en", (text("en", "Not yet.", Status.DRAFT),))
    keywords = (
        KeywordSet(
            "en",
            1,
            Status.APPROVED,
            (
                ("stop", ("STOP", "STOPALL")),
                ("start", ("START", "YES")),
                ("yes", ("YES",)),
                ("help", ("HELP",)),
                ("bot", ("ARE YOU A BOT",)),
            ),
            AUTHOR,
        ),
        KeywordSet("es", 1, Status.APPROVED, (("help", ("AYUDA",)), ("yes", ("SÍ",)), ("stop", ("BAJA",))), AUTHOR),
        KeywordSet("sw", 1, Status.DRAFT, (("stop", ("ACHA",)), ("help", ("MSAADA",))), AUTHOR),
    )
    glossary = Glossary("sw", 1, Status.APPROVED, (("health worker", "mhudumu wa afya"),), AUTHOR)
    return ContentStore.from_items(
        [greeting, swahili_first, unreviewed, *keywords, glossary], Settings(default_locale="en")
    )


def test_render_in_the_persons_locale(store: ContentStore) -> None:
    rendered = store.render("greet", "sw", "sms", {"name": "Amina"})
    assert (rendered.text, rendered.ref, rendered.locale, rendered.version) == ("Habari Amina.", "greet@1", "sw", 1)


def test_render_never_sends_a_draft_and_falls_back(store: ContentStore) -> None:
    # French exists only as a draft: the fallback chain is used instead.
    assert store.render("greet", "fr", "sms", {"name": "A"}, fallbacks=("sw",)).locale == "sw"
    assert store.render("greet", "fr", "sms", {"name": "A"}).locale == "en"  # the source locale


def test_render_uses_the_newest_approved_version(store: ContentStore) -> None:
    rendered = store.render("greet", "es", "sms", {"name": "Ana"})
    assert (rendered.text, rendered.ref) == ("Hola Ana.", "greet@1")


def test_preview_shows_drafts_for_editors(store: ContentStore) -> None:
    preview = store.preview("greet", "es", "sms", {"name": "Ana"})
    assert (preview.text, preview.version, preview.status) == ("¡Hola, Ana!", 2, "draft")


def test_whatsapp_body_falls_back_to_sms(store: ContentStore) -> None:
    assert store.render("greet", "en", "whatsapp", {"name": "A"}).text == "*Hello* A!"
    assert store.render("greet", "sw", "whatsapp", {"name": "A"}).text == "Habari A."


def test_item_whose_only_text_is_draft_is_not_approved(store: ContentStore) -> None:
    with pytest.raises(ContentNotApproved):
        store.render("draft.only", "en", "sms")


def test_unknown_item_is_missing(store: ContentStore) -> None:
    with pytest.raises(ContentMissing):
        store.render("no.such.item", "en", "sms")


def test_source_locale_is_the_last_resort(store: ContentStore) -> None:
    assert store.render("sw.only", "en", "sms").locale == "sw"


def test_missing_placeholder_value_is_an_error(store: ContentStore) -> None:
    with pytest.raises(MissingValue):
        store.render("greet", "en", "sms")


def test_unknown_channel_is_rejected(store: ContentStore) -> None:
    with pytest.raises(ValueError):
        store.render("greet", "en", "ussd", {"name": "A"})


@pytest.mark.parametrize(
    ("reply", "locales", "action"),
    [
        ("STOP", ["en"], "stop"),
        ("  stop. ", ["en"], "stop"),
        ("Stop all", ["en"], "stop"),  # spaces removed: STOPALL
        ("¡Ayuda!", ["es"], "help"),
        ("ayuda", ["en"], None),  # Spanish words only for Spanish speakers...
        ("BAJA", ["sw"], "stop"),  # ...except opt-out, honoured in every language
        ("acha", ["en"], "stop"),  # even from a draft keyword set
        ("msaada", ["sw"], None),  # other words of a draft set are not used
        ("si", ["es"], "yes"),
        ("Are you a bot?", ["en"], "bot"),
        ("stop worrying me", ["en"], None),  # whole-message match only
        ("\U0001f44d", ["en"], None),
    ],
)
def test_keyword_action(store: ContentStore, reply: str, locales: list[str], action: str | None) -> None:
    assert store.keyword_action(reply, locales) == action


def test_yes_is_both_yes_and_opt_in(store: ContentStore) -> None:
    assert store.keyword_actions("yes", ["en"]) == ["yes", "start"]
    assert store.keyword_action("yes", ["en"]) == "yes"


def test_glossary_only_approved(store: ContentStore, starter_store: ContentStore) -> None:
    assert store.glossary("sw") == {"health worker": "mhudumu wa afya"}
    assert store.glossary("fr") == {}
    assert starter_store.glossary("sw")["health worker"] == "mhudumu wa afya"  # demonstration, like English


def test_structures_must_be_approved() -> None:
    title = Message("module.x.title", "en", (text("en", "X"),))
    step = Message("module.x.1", "en", (text("en", "Step."),))
    draft_module = Module("x", 1, Status.DRAFT, "module.x.title", ("module.x.1",), AUTHOR, "en", menu_number=1)
    store = ContentStore.from_items([title, step, draft_module])
    with pytest.raises(ContentNotApproved):
        store.module("x")
    with pytest.raises(ContentMissing):
        store.screening("phq9")
    assert store.menu("en") == []


def test_from_library_refuses_an_invalid_library(make_library: Callable[..., Path]) -> None:
    bad = """
        kind: messages
        defaults: {status: approved, provenance: {author: Test author}}
        messages:
          greet.one: Hello {name}.
    """
    translation = """
        kind: messages
        defaults: {status: draft, provenance: {author: Test author}}
        messages:
          greet.one: Habari {jina}.
    """
    with pytest.raises(ContentInvalid) as caught:
        ContentStore.from_library(make_library({"en/greet.yaml": bad, "sw/greet.yaml": translation}))
    assert any("placeholders differ" in p for p in caught.value.problems)


def test_starter_menu_and_helplines(starter_store: ContentStore) -> None:
    entries = starter_store.menu("sw")
    assert [e.number for e in entries] == list(range(1, 9))
    assert entries[1].module_id == "sleep"
    # Swahili is demonstration content like English: its own titles are served.
    assert entries[1].title == "Usingizi"
    menu = starter_store.render("menu.main", "en", "sms", {"menu": format_menu(starter_store.menu("en"))})
    assert menu.text.endswith("8 Where to get help")
    helplines = format_helplines(starter_store.helplines("demo"))
    assert "DEMO HELPLINE - REPLACE" in helplines
    assert starter_store.region("demo").time_zone == "Africa/Nairobi"


def test_starter_screening_scores(starter_store: ContentStore) -> None:
    phq9: Screening = starter_store.screening("phq9")
    answers = [1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert phq9.score(answers) == 9
    assert phq9.band(9).severity == "mild"
    assert phq9.crisis_items(answers) == [9]
    assert phq9.crisis_items([3] * 8 + [0]) == []
    with pytest.raises(ValueError):
        phq9.score([4] * 9)
    assert starter_store.screening("phq2").band(3).follow_up == "phq9"
