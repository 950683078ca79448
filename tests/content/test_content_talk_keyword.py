"""Every text that points a person to a health worker names the keyword that reaches one.

TALK (ONGEA, PARLER, HABLAR) opens a handoff case; HELP only sends information. Texts said
once a person is already with a case (crisis pathways, handoff replies, response times) are
about that case and need no keyword.
"""

from __future__ import annotations

import pytest

from content.schema import Library

WORKER = {"en": "health worker", "sw": "mhudumu wa afya", "fr": "agent de santé", "es": "trabajador de salud",
          "hi": "स्वास्थ्य कार्यकर्ता", "ar": "عامل صحي"}
TALK = {"en": "TALK", "sw": "ONGEA", "fr": "PARLER", "es": "HABLAR", "hi": "बात", "ar": "تحدث"}
ALREADY_WITH_A_CASE = ("crisis.", "handoff.", "oncall.")


@pytest.mark.parametrize("locale", sorted(WORKER))
def test_texts_that_point_to_a_health_worker_name_talk(starter_library: Library, locale: str) -> None:
    missing = []
    for message in starter_library.messages:
        if message.id.startswith(ALREADY_WITH_A_CASE):
            continue
        text = message.text(locale, approved_only=False)
        if text is not None and WORKER[locale] in text.sms.lower() and TALK[locale] not in text.sms:
            missing.append(message.id)
    assert missing == []


@pytest.mark.parametrize("locale", sorted(WORKER))
def test_the_talk_keyword_is_a_keyword_in_its_locale(starter_library: Library, locale: str) -> None:
    words = next(k for k in starter_library.keyword_sets if k.locale == locale).words("talk")
    assert TALK[locale] in words
