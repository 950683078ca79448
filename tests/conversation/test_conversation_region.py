"""Region in onboarding, the REGION keyword, and falling back through the locales a person accepted.

Table by table on a library with three regions (demo, North Coast, South Valley)
and English, French and Swahili approved; the shipped single-region library
shows that nobody is asked where there is only one region.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation import Engine, Profile, Turn, locales
from bot.conversation.types import RISK_HIGH
from bot.regions import country_for_number, region_for_country, region_for_number
from content.store import ContentStore
from tests.conversation.regional_support import LIBRARY

CONSENTING = {"flow": "consent", "consent_locale": "en"}
READY = Profile(locale="en", consented=True)


@pytest.fixture(scope="module")
def content(regional_library) -> ContentStore:
    return ContentStore.from_library(regional_library)


@pytest.fixture(scope="module")
def engine(content) -> Engine:
    return Engine(content)


@pytest.fixture(scope="module")
def single_region_engine() -> Engine:
    return Engine(ContentStore.from_library(LIBRARY))


def refs(outcome) -> list[str]:
    return [r.ref.split("@")[0] for r in outcome.replies]


def run(engine: Engine, messages: list[str], profile: Profile, state=None, risk=None):
    """Play a conversation, storing what the worker stores between turns."""
    state = dict(state or {})
    outcome = None
    for text in messages:
        outcome = engine.step(state, Turn(text, "sms", risk=(risk or {}).get(text, 0)), profile)
        state = outcome.state
        chosen = outcome.locale
        profile = Profile(
            locale=chosen or profile.locale,
            consented=profile.consented or bool(outcome.consent and outcome.consent[0] == "given"),
            region=outcome.region_chosen or profile.region,
            accepted_locales=locales.remember(profile.accepted_locales, chosen) if chosen else profile.accepted_locales,
        )
    return outcome, state, profile


# -- where a person is ---------------------------------------------------------------
@pytest.mark.parametrize("number, country, region", [
    ("+254700000123", "KE", "demo"),  # only demo lists Kenya
    ("+27821234567", "ZA", "south"),  # only south lists South Africa
    ("+255712345678", "TZ", None),  # demo and north both list Tanzania: ask
    ("+12025550143", "US", None),  # no region lists it: ask
    ("not a number", None, None),
])
def test_the_number_settles_the_region_only_when_exactly_one_region_lists_its_country(content, number, country,
                                                                                      region):
    assert country_for_number(number) == country
    assert region_for_number(number, content.regions()) == region


def test_country_codes_match_whatever_their_case(content):
    assert region_for_country("za", content.regions()) == "south"
    assert region_for_country(None, content.regions()) is None


@pytest.mark.parametrize("state, profile, text, expected_refs, expected_flow", [
    # several regions and none known: asked right after consent, before the menu
    (CONSENTING, Profile(), "YES", ["onboarding.choose_region"], "region"),
    # known from the number (or chosen before): straight to the menu
    (CONSENTING, Profile(region="north"), "YES", ["menu.main"], "menu"),
    # a stored region the content no longer has is asked again
    (CONSENTING, Profile(region="gone"), "YES", ["onboarding.choose_region"], "region"),
    # declining consent asks nothing more
    (CONSENTING, Profile(), "NO", ["onboarding.consent_declined"], "consent"),
    # an answer that is no region asks again
    ({"flow": "region"}, READY, "Atlantis", ["onboarding.choose_region"], "region"),
    ({"flow": "region"}, READY, "7", ["onboarding.choose_region"], "region"),
    # MENU skips: the default region applies
    ({"flow": "region"}, READY, "MENU", ["menu.main"], "menu"),
    # REGION from the menu, in English and in Swahili
    ({"flow": "menu"}, READY, "REGION", ["onboarding.choose_region"], "region"),
    ({"flow": "menu"}, Profile(locale="sw", consented=True), "eneo", ["onboarding.choose_region"], "region"),
    # before consent, consent comes first
    ({}, Profile(), "REGION", ["onboarding.languages"], "language"),
    (CONSENTING, Profile(), "REGION", ["onboarding.consent"], "consent"),
])
def test_region_turns(engine, state, profile, text, expected_refs, expected_flow):
    outcome = engine.step(state, Turn(text, "sms"), profile)
    assert refs(outcome) == expected_refs
    assert outcome.state.get("flow") == expected_flow
    if expected_refs[-1] != "onboarding.choose_region":
        assert outcome.region_chosen is None


def test_the_question_lists_every_region_by_number(engine):
    outcome = engine.step(CONSENTING, Turn("YES", "sms"), Profile())
    assert outcome.replies[0].text.endswith(
        "\n1. Demo region (placeholders - replace before use)\n2. North Coast\n3. South Valley")
    assert outcome.replies[0].ref == "onboarding.choose_region@1"


@pytest.mark.parametrize("text, region", [
    ("2", "north"), ("2.", "north"), (" 3 ", "south"), ("1", "demo"),
    ("North Coast", "north"), ("north coast!", "north"), ("SOUTH", "south"), ("south valley", "south"),
])
def test_a_region_is_chosen_by_number_or_by_name_and_audited_by_id(engine, text, region):
    outcome = engine.step({"flow": "region"}, Turn(text, "sms"), READY)
    assert outcome.region_chosen == region and outcome.region == region
    assert ("region_set", {"region": region, "source": "chosen"}) in outcome.audit
    assert refs(outcome) == ["menu.main"] and outcome.state["flow"] == "menu"


def test_onboarding_end_to_end_asks_language_consent_then_region(engine):
    outcome, state, profile = run(engine, ["ok"], Profile())
    assert refs(outcome) == ["onboarding.languages"]
    english = next(line for line in outcome.replies[0].text.splitlines() if "English" in line).split(".")[0]
    outcome, state, profile = run(engine, [english], profile, state)
    assert refs(outcome) == ["onboarding.welcome", "onboarding.consent"]
    outcome, state, profile = run(engine, ["YES"], profile, state)
    assert refs(outcome) == ["onboarding.choose_region"]
    outcome, state, profile = run(engine, ["2"], profile, state)
    assert refs(outcome) == ["menu.main"] and profile.region == "north"


def test_a_region_can_be_changed_later_with_the_region_keyword(engine):
    outcome, _, profile = run(engine, ["REGION", "South Valley"], Profile(locale="en", consented=True,
                                                                          region="north"), {"flow": "menu"})
    assert profile.region == "south" and refs(outcome) == ["menu.main"]


def test_with_one_region_nobody_is_asked(single_region_engine):
    outcome = single_region_engine.step(CONSENTING, Turn("YES", "sms"), Profile())
    assert refs(outcome) == ["menu.main"]
    outcome = single_region_engine.step({"flow": "menu"}, Turn("REGION", "sms"), READY)
    assert "onboarding.choose_region" not in refs(outcome) and outcome.region_chosen is None


@pytest.mark.parametrize("region, quoted, not_quoted", [
    ("north", "NORTH LINE: +1 202 555 0111", "DEMO"),
    ("south", "SOUTH LINE: +1 202 555 0122", "DEMO"),
    (None, "DEMO HELPLINE", "NORTH LINE"),  # unknown: the deployment's default region
])
def test_crisis_replies_quote_the_persons_regions_helplines(engine, region, quoted, not_quoted):
    outcome = engine.step({"flow": "menu"}, Turn("I want to end it all", "sms", risk=RISK_HIGH),
                          Profile(locale="en", consented=True, region=region))
    assert refs(outcome) == ["crisis.immediate"]
    assert quoted in outcome.replies[0].text and not_quoted not in outcome.replies[0].text


def test_a_crisis_right_after_choosing_a_region_quotes_that_region(engine):
    outcome, _, _ = run(engine, ["2", "I want to end it all"], READY, {"flow": "region"},
                        risk={"I want to end it all": RISK_HIGH})
    assert "NORTH LINE" in outcome.replies[0].text


@pytest.mark.parametrize("region, told", [("north", "north"), ("south", "south"), (None, "demo")])
def test_the_dialogue_is_told_the_persons_region(content, region, told):
    """Generated replies may cite only the person's own region's numbers and links."""
    from bot.conversation.types import Generated

    heard: list[str] = []

    def dialogue(text: str, locale: str, text_lang: str, region_id: str) -> Generated:
        heard.append(region_id)
        return Generated("I hear you.", "generated:tiny@1")

    Engine(content, dialogue=dialogue).step({"flow": "menu"}, Turn("my neighbour keeps shouting", "sms"),
                                            Profile(locale="en", consented=True, region=region))
    assert heard == [told]


# -- which locale a reply comes in ------------------------------------------------------
@pytest.mark.parametrize("profile, text, expected_locale", [
    # BOT has no Swahili text: the locale the person chose before Swahili wins over the default
    (Profile(locale="sw", consented=True, accepted_locales=("sw", "fr")), "BOT", "fr"),
    # accepted locales are tried in order, most recent first
    (Profile(locale="sw", consented=True, accepted_locales=("sw", "en", "fr")), "BOT", "en"),
    # nothing else accepted: the region's default locale (north: French) before the library's
    (Profile(locale="sw", consented=True, accepted_locales=("sw",), region="north"), "BOT", "fr"),
    (Profile(locale="sw", consented=True, accepted_locales=("sw",), region="south"), "BOT", "en"),
    # an accepted locale with no approved text is skipped (Spanish is still a draft)
    (Profile(locale="sw", consented=True, accepted_locales=("sw", "es", "fr")), "BOT", "fr"),
    # DATA has no French text: a French reader who chose Swahili before reads Swahili
    (Profile(locale="fr", consented=True, accepted_locales=("fr", "sw")), "DONNEES", "sw"),
    (Profile(locale="fr", consented=True, accepted_locales=("fr",)), "DONNEES", "en"),
    # the person's own locale always comes first when it has the text
    (Profile(locale="sw", consented=True, accepted_locales=("sw", "fr")), "MSAADA", "sw"),
])
def test_a_missing_item_falls_back_to_the_nearest_accepted_locale(engine, profile, text, expected_locale):
    outcome = engine.step({"flow": "menu"}, Turn(text, "sms"), profile)
    assert len(outcome.replies) == 1
    assert outcome.replies[0].locale == expected_locale


def test_choosing_a_language_keeps_the_earlier_one_as_the_fallback(engine):
    outcome, state, profile = run(engine, ["LANGUAGE"], Profile(locale="fr", consented=True,
                                                                accepted_locales=("fr",), region="south"),
                                  {"flow": "menu"})
    swahili = next(line for line in outcome.replies[0].text.splitlines() if "Kiswahili" in line).split(".")[0]
    _, state, profile = run(engine, [swahili], profile, state)
    assert profile.locale == "sw" and profile.accepted_locales == ("sw", "fr")
    outcome = engine.step(state, Turn("BOT", "sms"), profile)
    assert outcome.replies[0].locale == "fr"


@pytest.mark.parametrize("accepted, region_locale, expected", [
    ((), None, ("en",)),
    (("sw", "fr"), "fr", ("sw", "fr", "en")),
    (("sw",), "fr", ("sw", "fr", "en")),
    (("en",), "en", ("en",)),
])
def test_the_fallback_chain(accepted, region_locale, expected):
    assert locales.fallback_chain(accepted, region_locale, "en") == expected


def test_accepted_locales_are_remembered_most_recent_first_and_capped():
    accepted: tuple[str, ...] = ()
    for code in ["en", "sw", "fr", "sw", "es", "am", "ha", "yo"]:
        accepted = locales.remember(accepted, code)
    assert accepted == ("yo", "ha", "am", "es", "sw")
    assert locales.parse(locales.serialise(accepted)) == accepted
    assert locales.parse(None) == () and locales.serialise(()) is None
    assert len(locales.serialise(("x" * 16,) * locales.MAX_ACCEPTED)) <= 100  # fits the column


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
PROFILES = st.builds(Profile, locale=st.sampled_from([None, "en", "sw", "fr", "es"]), opted_out=st.booleans(),
                     consented=st.booleans(), region=st.sampled_from([None, "demo", "north", "south", "gone"]),
                     accepted_locales=st.lists(st.sampled_from(["en", "sw", "fr", "es"]), max_size=3,
                                               unique=True).map(tuple))


@settings(max_examples=200, deadline=None)
@given(state=st.sampled_from([{}, {"flow": "region"}, CONSENTING, {"flow": "menu"}]), profile=PROFILES,
       text=st.one_of(TEXT, st.sampled_from(["1", "2", "3", "4", "REGION", "MENU", "YES", "north"])),
       risk=st.sampled_from([0, 2]))
def test_no_input_crashes_the_region_flow_and_a_chosen_region_exists(engine, content, state, profile, text, risk):
    outcome = engine.step(state, Turn(text, "sms", risk=risk), profile)
    ids = {r.id for r in content.regions()}
    assert outcome.region in ids
    if outcome.region_chosen is not None:
        assert outcome.region_chosen in ids and profile.consented and not profile.opted_out
    for reply in outcome.replies:
        assert reply.text.strip() and "{" not in reply.text
