"""Validation findings, as an editor reads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from content.loader import load_library
from content.problems import Problem
from content.validate import validate


def findings(path: Path) -> list[Problem]:
    return list(validate(load_library(path)).problems)


def messages_file(body: str, status: str = "approved", locale_source: str = "") -> str:
    return f"""
        kind: messages
        defaults:
          status: {status}
          provenance: {{author: Test author}}
          {locale_source}
        messages:
{body}
    """


def test_small_base_library_is_clean(make_library: Callable[..., Path]) -> None:
    assert findings(make_library()) == []


def test_sms_over_budget_says_by_how_much(make_library: Callable[..., Path]) -> None:
    body = "á" + "b" * 229  # one accent outside GSM-7 makes the whole text UCS-2
    [problem] = findings(make_library({"en/long.yaml": messages_file(f"          long.one: {body}")}))
    assert problem.severity == "error"
    assert str(problem) == (
        "ERROR en/long.yaml:7: 'long.one' (en/SMS): SMS body is 4 segments (UCS-2, 230 units); "
        "the limit is 3 - shorten by about 29 characters; it is sent as UCS-2 (70 per segment) because of 'á'"
    )


def test_budget_counts_filled_placeholders(make_library: Callable[..., Path]) -> None:
    # 440 GSM characters fit three segments, but the helpline list pushes it over.
    body = "x" * 440 + " {helplines}"
    problems = findings(make_library({"en/long.yaml": messages_file(f'          long.one: "{body}"')}))
    assert [p.code for p in problems] == ["sms-budget"]
    assert "with placeholders filled in" in problems[0].message


def test_per_message_budget(make_library: Callable[..., Path]) -> None:
    body = '          long.one: {sms: "' + "y" * 200 + '", budget: 1}'
    [problem] = findings(make_library({"en/long.yaml": messages_file(body)}))
    assert "the limit is 1 - shorten by about 40 characters" in problem.message


def test_placeholders_must_match_across_locales(make_library: Callable[..., Path]) -> None:
    english = messages_file("          greet.one: Hello {name}, reply {keyword}.")
    swahili = messages_file("          greet.one: Habari {jina}, jibu {keyword}.", status="draft")
    [problem] = findings(make_library({"en/greet.yaml": english, "sw/greet.yaml": swahili}))
    assert problem.code == "placeholders"
    assert problem.locale == "sw"
    assert "missing {name}; unknown {jina}" in problem.message


def test_numbers_and_links_must_be_allowlisted(make_library: Callable[..., Path]) -> None:
    body = "\n".join(
        [
            "          ok.helpline: Call +1 202 555 0100 or +1 (202) 555-0199 today.",
            "          ok.scores: Scores 0-4, 5-9, 10-14 and 15-19 are bands.",
            "          ok.link: See https://www.who.int/health-topics for more.",
            "          bad.number: Call 0722 123 456 now.",
            "          bad.link: Visit example.com or http://bit.ly/x now.",
        ]
    )
    problems = findings(make_library({"en/links.yaml": messages_file(body)}))
    assert sorted((p.item_id, p.code) for p in problems) == [
        ("bad.link", "link"),
        ("bad.link", "link"),
        ("bad.number", "number"),
    ]
    assert (
        "'0722 123 456' is not on the allowlist of region(s) test"
        in next(p for p in problems if p.code == "number").message
    )


def test_missing_required_locale_is_error_when_live_warning_otherwise(make_library: Callable[..., Path]) -> None:
    region = """
        kind: region
        name: Two-language region
        time_zone: Africa/Dar_es_Salaam
        default_locale: en
        locales: [en, sw]
        required_locales: [en, sw]
        helplines: [{name: Line, number: "+1 202 555 0100"}]
    """
    keywords_sw = """
        kind: keywords
        status: approved
        provenance: {author: Test author}
        actions: {stop: [ACHA]}
    """
    live = messages_file("          live.one: Live text.")
    draft = messages_file("          draft.one: Draft text.", status="draft")
    translated = messages_file("          live.two: Imeandikwa.\n          draft.one: Rasimu.", status="draft")
    live_two = messages_file("          live.two: Also live.")
    path = make_library(
        {
            "regions/test.yaml": region,
            "sw/keywords.yaml": keywords_sw,
            "en/live.yaml": live,
            "en/draft.yaml": draft,
            "sw/t.yaml": translated,
            "en/live2.yaml": live_two,
        }
    )
    required = {(p.item_id, p.severity) for p in findings(path) if p.code == "required-locale"}
    assert ("live.one", "error") in required  # live, no Swahili at all
    assert ("live.two", "warning") in required  # live, Swahili only in draft
    assert not any(item == "draft.one" for item, _ in required)  # not live, Swahili present
    engine_errors = {item for item, severity in required if severity == "error" and item.startswith("onboarding")}
    assert "onboarding.welcome" in engine_errors


def test_screening_bands_must_cover_the_range(make_library: Callable[..., Path]) -> None:
    screening = """
        kind: screening
        id: mini
        name: Mini
        status: approved
        provenance: {author: Test author}
        intro: Intro.
        scale_help: Reply 0-3.
        help: Help.
        scale: {"0": Never, "1": Some, "2": Often, "3": Always}
        questions:
          screening.mini.q1: Q1?
          screening.mini.q2: {sms: "Q2?", crisis_if_above: 0}
        bands:
          screening.mini.low: {min: 0, max: 1, severity: low, sms: Low.}
          screening.mini.mid: {min: 3, max: 4, severity: mid, sms: Mid.}
          screening.mini.high: {min: 4, max: 5, severity: high, sms: High.}
    """
    problems = [p.message for p in findings(make_library({"en/screening_mini.yaml": screening}))]
    assert problems == [
        "screening 'mini': scores 2-2 fall in no band; extend a band to cover them",
        "screening 'mini': band 'high' overlaps the band before it at 4-4; make them meet without overlapping",
        "screening 'mini': scores 6-6 fall in no band (the maximum score is 6); extend the last band",
    ]


def test_keyword_conflicts_and_missing_opt_out(make_library: Callable[..., Path]) -> None:
    keywords_fr = """
        kind: keywords
        status: approved
        provenance: {author: Test author}
        actions:
          next: [SUIVANT, OUI]
          "yes": [Oui]
    """
    region = """
        kind: region
        name: Test region
        time_zone: Europe/Paris
        default_locale: en
        locales: [en, fr]
        helplines: [{name: Line, number: "+1 202 555 0100"}]
    """
    problems = [
        p
        for p in findings(make_library({"fr/keywords.yaml": keywords_fr, "regions/test.yaml": region}))
        if p.code == "keywords" and p.severity == "error"
    ]
    messages = sorted(p.message for p in problems)
    assert messages == [
        "'OUI' is listed under next and yes; a reply can only mean one thing",
        "no 'stop' words: people must be able to opt out in every language",
    ]


def test_english_keeps_carrier_opt_out_words(make_library: Callable[..., Path]) -> None:
    keywords = """
        kind: keywords
        status: approved
        provenance: {author: Test author}
        actions:
          stop: [STOP]
          start: [START, UNSTOP, "YES"]
          help: [HELP, INFO]
    """
    problems = [p.message for p in findings(make_library({"en/keywords.yaml": keywords})) if p.severity == "error"]
    assert problems == ["carrier-standard stop words missing: STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT"]


def test_engine_messages_must_exist(make_library: Callable[..., Path]) -> None:
    path = make_library()
    (path / "en/engine.yaml").unlink()
    missing = {p.item_id for p in findings(path) if p.code == "engine-id"}
    assert {"onboarding.welcome", "crisis.immediate", "menu.main"} <= missing


def test_approved_module_needs_approved_text(make_library: Callable[..., Path]) -> None:
    module = """
        kind: module
        id: sleep
        status: approved
        provenance: {author: Test author}
        menu: 1
        title: Sleep
        steps:
          module.sleep.1: {sms: Draft step., status: draft}
    """
    [problem] = findings(make_library({"en/module_sleep.yaml": module}))
    assert problem.code == "unapproved-step"
    assert problem.item_id == "module.sleep.1"


def test_placeholder_helplines_and_unreviewed_crisis_text_warn(make_library: Callable[..., Path]) -> None:
    region = """
        kind: region
        name: Demo
        time_zone: Africa/Nairobi
        default_locale: en
        locales: [en]
        emergency: {number: "112"}
        helplines: [{name: DEMO LINE - REPLACE, number: "+1 202 555 0100", placeholder: true, opening_hours: 24/7}]
    """
    crisis = """
        kind: crisis
        defaults: {status: approved, provenance: {author: Test author, clinical_reviewer: pending}}
        messages:
          crisis.extra: Please call {helplines}.
    """
    problems = findings(make_library({"regions/test.yaml": region, "en/crisis_extra.yaml": crisis}))
    assert {(p.severity, p.code) for p in problems} == {
        ("warning", "placeholder-helpline"),
        ("warning", "clinical-review"),
    }


def test_services_say_what_they_serve_and_when_they_open(make_library: Callable[..., Path]) -> None:
    region = """
        kind: region
        name: Test region
        time_zone: Africa/Nairobi
        default_locale: en
        locales: [en]
        required_locales: [en]
        emergency: {number: "112"}
        helplines:
          - {name: Line, number: "+1 202 555 0100", serves: [crisis, counselling], opening_hours: 24/7}
          - {name: Clinic, number: "+1 202 555 0101", serves: [health], opening_hours: "mon-fri 17:00-08:00"}
          - {name: Desk, number: "+1 202 555 0102", serves: [gbv], opening_hours: "weekdays 8-5"}
          - {name: Shelter, number: "+1 202 555 0103", serves: [gbv]}
        allow:
          numbers: ["+1 202 555 0199"]
          domains: [who.int]
    """
    problems = findings(make_library({"regions/test.yaml": region}))
    said = [(p.severity, p.code, p.message) for p in problems]
    assert any(s == "error" and "'Line' serves 'counselling'" in m for s, _, m in said)
    assert any(s == "error" and "'Clinic'" in m and "ends before it starts" in m for s, _, m in said)
    assert any(s == "error" and "'Desk'" in m and "cannot read" in m for s, _, m in said)
    assert any(s == "warning" and c == "opening-hours" and "'Shelter'" in m for s, c, m in said)


def test_a_pathway_needs_known_category_services_and_its_messages(make_library: Callable[..., Path]) -> None:
    library = """
        kind: library
        source_locale: en
        default_locale: en
        default_region: test
        pathways:
          suicide: {severity: high, services: [crisis, emergency], steps: [crisis.safety_plan.1]}
          violence: {severity: urgent, services: [police], steps: [crisis.violence.step.9]}
          feeling_low: {severity: high, services: [crisis]}
    """
    problems = findings(make_library({"library.yaml": library}))
    said = [p.message for p in problems if p.severity == "error" and p.code == "pathway"]
    assert any("'feeling_low' is not a risk category" in m for m in said)
    assert any("severity 'urgent'" in m for m in said)
    assert any("unknown service(s) police" in m for m in said)
    assert any("'crisis.violence.step.9', which does not exist" in m for m in said)
    assert any("no pathway for 'child_safeguarding'" in m for m in said)
    assert any("'crisis.suicide', which does not exist" in m for m in said)


def test_a_region_without_an_emergency_number_or_a_service_for_a_pathway_is_flagged(
    make_library: Callable[..., Path],
) -> None:
    region = """
        kind: region
        name: Test region
        time_zone: Africa/Nairobi
        default_locale: en
        locales: [en]
        helplines: [{name: Line, number: "+1 202 555 0100", opening_hours: 24/7}]
    """
    library = """
        kind: library
        default_region: test
        pathways:
          violence: {severity: high, services: [gbv, emergency], reply: crisis.immediate, followup: crisis.followup}
    """
    problems = findings(make_library({"regions/test.yaml": region, "library.yaml": library}))
    codes = {(p.severity, p.code) for p in problems}
    assert ("warning", "emergency") in codes and ("warning", "pathway-services") in codes
