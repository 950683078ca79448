"""Reading YAML content: located errors, kinds, defaults and versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from content.errors import LoadError
from content.loader import load_library
from content.schema import Status

MESSAGES = """
    kind: messages
    defaults:
      status: approved
      provenance: {author: Test author}
    messages:
      hello.one: Hello there.
      hello.two:
        sms: Short hello.
        whatsapp: A longer, richer hello.
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_library(path)
    return caught.value.problems


def test_loads_messages_with_file_defaults(make_library: Callable[..., Path]) -> None:
    library = load_library(make_library({"en/hello.yaml": MESSAGES}))
    message = next(m for m in library.messages if m.id == "hello.two")
    text = message.text("en")
    assert text is not None
    assert (text.sms, text.whatsapp, text.status, text.version) == (
        "Short hello.",
        "A longer, richer hello.",
        Status.APPROVED,
        1,
    )
    assert text.provenance.author == "Test author"
    assert text.origin == "en/hello.yaml:7"


def test_skips_files_of_kinds_it_does_not_own(make_library: Callable[..., Path]) -> None:
    lexicon = """
        kind: crisis_lexicon
        terms: [{text: anything, level: high}]
    """
    library = load_library(make_library({"en/crisis_lexicon.yaml": lexicon, "en/hello.yaml": MESSAGES}))
    assert "hello.one" in {m.id for m in library.messages}


def test_unknown_field_names_file_and_line(make_library: Callable[..., Path]) -> None:
    bad = MESSAGES.replace("whatsapp: A longer", "whatsap: A longer")
    [problem] = problems_of(make_library({"en/hello.yaml": bad}))
    assert problem.startswith("en/hello.yaml:9: unknown field 'whatsap'")


def test_bad_status_is_located(make_library: Callable[..., Path]) -> None:
    bad = MESSAGES.replace("status: approved", "status: aproved")
    [problem] = problems_of(make_library({"en/hello.yaml": bad}))
    assert problem.startswith("en/hello.yaml:3: status 'aproved' is not one of")


def test_duplicate_key_is_an_error_not_a_silent_overwrite(make_library: Callable[..., Path]) -> None:
    bad = MESSAGES + "      hello.one: Again.\n"
    [problem] = problems_of(make_library({"en/hello.yaml": bad}))
    assert problem.startswith("en/hello.yaml:10: 'hello.one' appears twice")


def test_yaml_syntax_error_names_the_line(make_library: Callable[..., Path]) -> None:
    [problem] = problems_of(make_library({"en/broken.yaml": "kind: messages\nmessages:\n  a: [unclosed\n"}))
    assert problem.startswith("en/broken.yaml:")
    assert "YAML syntax error" in problem


def test_translation_without_source_text_is_reported(make_library: Callable[..., Path]) -> None:
    orphan = """
        kind: messages
        defaults: {status: draft, provenance: {author: Translator}}
        messages:
          hello.three: Habari.
    """
    problems = problems_of(make_library({"en/hello.yaml": MESSAGES, "sw/hello.yaml": orphan}))
    assert any("sw/hello.yaml:4: 'hello.three' has no en text" in p for p in problems)


def test_problems_from_several_files_are_all_reported(make_library: Callable[..., Path]) -> None:
    problems = problems_of(
        make_library(
            {
                "en/a.yaml": MESSAGES.replace("status: approved", "status: nope"),
                "en/b.yaml": "kind: messages\nmessages: {x.y: {}}\n",
            }
        )
    )
    assert len(problems) == 2


def test_keyword_no_stays_a_word(make_library: Callable[..., Path]) -> None:
    keywords = """
        kind: keywords
        status: approved
        provenance: {author: Test author}
        actions:
          stop: [STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT]
          start: [START, UNSTOP, YES]
          help: [HELP, INFO]
          no: [NO, N, off]
    """
    library = load_library(make_library({"en/keywords.yaml": keywords}))
    [english] = library.keyword_sets
    assert english.words("no") == ("NO", "N", "off")
    assert english.words("start") == ("START", "UNSTOP", "YES")


def test_several_versions_of_one_text(make_library: Callable[..., Path]) -> None:
    versions = """
        kind: messages
        defaults: {status: approved, provenance: {author: Test author}}
        messages:
          hello.one:
            - {version: 1, sms: Old wording.}
            - {version: 2, status: draft, sms: New wording.}
    """
    library = load_library(make_library({"en/hello.yaml": versions}))
    message = next(m for m in library.messages if m.id == "hello.one")
    assert message.text("en").sms == "Old wording."  # type: ignore[union-attr]
    assert message.text("en", approved_only=False).sms == "New wording."  # type: ignore[union-attr]


def test_same_version_twice_is_an_error(make_library: Callable[..., Path]) -> None:
    twice = """
        kind: messages
        defaults: {status: approved, provenance: {author: Test author}}
        messages:
          hello.one: One.
    """
    problems = problems_of(make_library({"en/a.yaml": twice, "en/b.yaml": twice}))
    assert any("'hello.one' en version 1 is also at en/a.yaml:4" in p for p in problems)


def test_module_file_defines_structure_and_inline_texts(make_library: Callable[..., Path]) -> None:
    module = """
        kind: module
        id: sleep
        version: 2
        status: approved
        provenance: {author: Test author}
        menu: 1
        choices: [next, menu, {reply: "1", action: module, target: sleep}]
        title: Sleep
        steps:
          module.sleep.1: Step one. Reply NEXT.
          module.sleep.2: {sms: Step two., version: 3}
    """
    library = load_library(make_library({"en/module_sleep.yaml": module}))
    [sleep] = library.modules
    assert (sleep.version, sleep.menu_number, sleep.title_id) == (2, 1, "module.sleep.title")
    assert sleep.steps == ("module.sleep.1", "module.sleep.2")
    assert sleep.choices[2].reply == "1"
    texts = {m.id: m.text("en") for m in library.messages}
    assert texts["module.sleep.1"].version == 2  # type: ignore[union-attr]
    assert texts["module.sleep.2"].version == 3  # type: ignore[union-attr]


def test_missing_content_folder_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError):
        load_library(tmp_path / "nowhere")
