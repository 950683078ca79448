"""The output guard, rule by rule: what must be blocked, what must get through."""

from __future__ import annotations

import logging

import pytest

from bot.dialogue.guard import RULES, OutputGuard

BLOCKED = [
    ("take 50mg of sertraline", "dose"),
    ("Take two tablets twice a day and rest.", "dose"),
    ("You could ask about sertraline, it helps many people.", "medication"),
    ("Maybe some sleeping pills would help you rest.", "medication"),
    ("An antidepressant might be right for you.", "medication"),
    ("It sounds like you have depression.", "diagnosis"),
    ("You might be suffering from anxiety.", "diagnosis"),
    ("This could be a panic disorder.", "diagnosis"),
    ("Those are symptoms of PTSD.", "diagnosis"),
    ("Try a diet with fewer calories.", "diet_weight"),
    ("You should lose weight to feel better about yourself.", "diet_weight"),
    ("Skipping meals can give you a sense of control.", "diet_weight"),
    ("you will surely be fine, I promise", "promise"),
    ("Everything will be okay in the end.", "promise"),
    ("I guarantee this feeling will pass.", "promise"),
    ("You'll feel better tomorrow.", "promise"),
    ("I am a real person", "human_claim"),
    ("I'm a therapist, so I understand.", "human_claim"),
    ("As a doctor, I see this often.", "human_claim"),
    ("I am not a bot, I really care about you.", "human_claim"),
    ("I'm human too, I know how it feels.", "human_claim"),
    ("I'm sorry. I've been a teacher for 25 years, and I understand.", "human_claim"),
    ("My husband felt the same last year.", "human_claim"),
    ("I'll always remember you, and I'll be here tomorrow.", "promise"),
    # Promises of presence or ongoing support, in every language a reply may come out in.
    ("I'm here to support you every step of the journey.", "availability"),
    ("I'm here for you, message me anytime you need.", "availability"),
    ("You can always talk to me, day or night.", "availability"),
    ("Niko hapa kwa ajili yako wakati wowote.", "availability"),
    ("Je suis là pour vous, à chaque étape.", "availability"),
    ("Estoy aquí para ti, cuenta conmigo.", "availability"),
    ("मैं हमेशा यहाँ हूँ।", "availability"),
    ("Main hamesha tumhare saath hoon.", "availability"),
    ("I'm sorry for your mother's loss.", "condolence"),
    ("My condolences, that must be hard.", "condolence"),
    ("I'm sorry, but I can't help with that. You're not allowed to talk about it.", "refusal"),
    ("I am unable to discuss this topic.", "refusal"),
    ("Visit https://example.com/help for more.", "link"),
    ("You can read more at www.example.org today.", "link"),
    ("There is good advice on mentalhealth.org about this.", "link"),
    ("call 0800 000 000", "phone"),
    ("Text +254 722 000 111 whenever you need.", "phone"),
    ("Please call 911 right away.", "phone"),
    ("", "empty"),
    ("   \n ", "empty"),
    ("!!! ...", "empty"),
    ("I hear you. " * 6, "repetitive"),
    ("so so so so so so so so so so so so", "repetitive"),
    ("Okaaaaaaaaaaaaaay, that is hard.", "repetitive"),
    (" ".join(f"word{i}" for i in range(120)), "overlong"),
]

ALLOWED = [
    "That sounds really hard. Thank you for telling me.",
    "I'm here to listen. It makes sense that you feel tired after such a long week.",
    "It sounds like you're feeling anxious about the exam.",
    "I am not a doctor, but a health worker can help. Reply MENU to see options.",
    "I'm an automated listener, and I'm glad you wrote. Reply MENU for options.",
    "You are not alone in feeling this way.",
    "It's okay to feel sad sometimes. Thank you for sharing it with me.",
    "You said it has been 3 days since you slept well. That sounds exhausting.",
    "I'm so sorry you lost your job. That is a lot to carry.",
    "Losing someone is painful.So many feelings can come at once.",
    "I can hear how much this hurts. I'm glad you told me.",
]


@pytest.mark.parametrize(("text", "rule"), BLOCKED)
def test_harmful_replies_are_blocked_by_the_named_rule(text: str, rule: str) -> None:
    verdict = OutputGuard().check(text)
    assert (verdict.allowed, verdict.rule) == (False, rule)


@pytest.mark.parametrize("text", ALLOWED)
def test_warm_acknowledgements_pass(text: str) -> None:
    verdict = OutputGuard().check(text)
    assert verdict.allowed, verdict.rule
    assert verdict.rule is None


def test_every_rule_has_a_blocking_example() -> None:
    covered = {rule for _, rule in BLOCKED} | {"safety_flag"}
    assert covered == set(RULES)


@pytest.mark.parametrize("listed", ["0800 000 000", "0800000000", "+0800-000-000"])
def test_a_phone_number_passes_only_when_it_is_an_approved_helpline(listed: str) -> None:
    text = "If you want to talk to someone, call 0800 000 000."
    assert OutputGuard(allowlist=[listed]).check(text).allowed
    assert OutputGuard(allowlist=["0800 111 222"]).check(text).rule == "phone"
    assert OutputGuard().check(text).rule == "phone"


def test_a_short_helpline_code_passes_only_when_listed() -> None:
    text = "You can call 116 any time."
    assert OutputGuard(allowlist=["116"]).check(text).allowed
    assert OutputGuard(allowlist=["0800 000 000"]).check(text).rule == "phone"


def test_links_pass_only_under_an_approved_address() -> None:
    guard = OutputGuard(allowlist=["https://findahelpline.com"])
    assert guard.check("You can look at https://findahelpline.com/ke for support.").allowed
    assert guard.check("See findahelpline.com for support.").allowed
    assert guard.check("See findahelpline.com.evil.io for support.").rule == "link"
    assert guard.check("See https://example.com for support.").rule == "link"


def test_condolences_pass_only_when_the_person_spoke_of_a_loss() -> None:
    reply = "I'm so sorry for your loss. Thank you for telling me."
    assert OutputGuard().check(reply, context="My mother is sick and I am scared.").rule == "condolence"
    assert OutputGuard().check(reply, context="My father died last week.").allowed
    assert OutputGuard().check(reply).rule == "condolence"


def test_the_injected_safety_flag_blocks_what_it_flags() -> None:
    seen: list[str] = []

    def flag(text: str) -> bool:
        seen.append(text)
        return "hopeless" in text.lower()

    guard = OutputGuard(safety_flag=flag)
    assert guard.check("Everything feels hopeless, and that is understandable.").rule == "safety_flag"
    assert guard.check("That sounds like a heavy week.").allowed
    assert len(seen) == 2


def test_the_safety_flag_is_not_asked_about_text_already_blocked() -> None:
    calls: list[str] = []
    guard = OutputGuard(safety_flag=lambda text: calls.append(text) or False)
    assert guard.check("take 50mg of sertraline").rule == "dose"
    assert calls == []


def test_a_block_logs_the_rule_and_never_the_text(caplog: pytest.LogCaptureFixture) -> None:
    text = "Please call 0722 123 456, I am a real person"
    with caplog.at_level(logging.INFO, logger="bot.dialogue.guard"):
        verdict = OutputGuard().check(text)
    assert verdict.rule == "human_claim"
    assert set(vars(verdict)) == {"allowed", "rule"}
    records = [r for r in caplog.records if r.name == "bot.dialogue.guard"]
    assert [(r.getMessage(), r.rule) for r in records] == [("dialogue.guard_blocked", "human_claim")]
    for record in records:
        assert not any("0722" in str(value) or "real person" in str(value) for value in vars(record).values())


def test_a_generated_reply_may_give_the_regions_emergency_number_and_services(starter_content):
    from bot.dialogue.worker import region_allowlist

    guard = OutputGuard(allowlist=list(region_allowlist(starter_content.region("demo"))))
    assert guard.check("In danger now? Call +1 202 555 0199.").allowed  # the demo's emergency number
    assert guard.check("You can call +1 202 555 0102, any time.").allowed  # its GBV line
    assert guard.check("Call +1 202 555 0177.").rule == "phone"  # nothing the region lists
