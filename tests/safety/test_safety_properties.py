"""Whatever arrives by SMS, the gate answers with one of its four levels and never crashes."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety.gate import SafetyGate
from bot.safety.levels import Assessment, Level

LANGS = st.sampled_from([None, "", "en", "sw", "hi-Latn", "ar", "am", "pt_BR", "xx", "zz-Qaaa"])
# Plain text plus the characters our normaliser treats specially.
TRICKY = st.text(alphabet=st.sampled_from(list("a1!@$4 'ि़्ًّـሀሐ\u200d\ufe0f💊.-") + ["\n", "\t"]))


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), TRICKY), lang=LANGS, translated=st.one_of(st.none(), st.text()))
def test_assess_never_crashes_and_returns_a_known_level(
    gate: SafetyGate, text: str, lang: str | None, translated: str | None
) -> None:
    assessment = gate.assess(text, lang, translated)
    assert isinstance(assessment, Assessment)
    assert assessment.level in set(Level)
    assert assessment.is_crisis == (assessment.level >= Level.HIGH)


@settings(max_examples=100, deadline=None)
@given(text=st.text(), lang=LANGS)
def test_assess_is_deterministic(gate: SafetyGate, text: str, lang: str | None) -> None:
    assert gate.assess(text, lang) == gate.assess(text, lang)


@settings(max_examples=100, deadline=None)
@given(prefix=st.text(max_size=40), suffix=st.text(max_size=40))
def test_a_clear_crisis_stays_a_crisis_whatever_surrounds_it(gate: SafetyGate, prefix: str, suffix: str) -> None:
    assert gate.assess(f"{prefix}\nnataka kujiua\n{suffix}", "sw").level >= Level.HIGH
