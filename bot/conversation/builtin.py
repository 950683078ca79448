"""The minimal crisis text built into the code, for when the approved reply cannot be rendered.

A person in crisis must never get silence because a curator's edit broke a placeholder or an
item went missing. When rendering the turn fails, the worker sends this instead (once per
message), with the region's emergency number and first crisis line read straight from the
region file, and the turn is retried for the approved reply. It names no category and
promises no time: it says to call now, and that a health worker will see the message (the
case is already open and on call alerted).
"""

from __future__ import annotations

from typing import Any

from bot.conversation.types import Reply
from content.errors import ContentMissing
from content.pathways import serving
from content.render import format_emergency, format_helpline

REF = "builtin:crisis@1"
ITEM = "builtin.crisis"
# {emergency} and {helpline} are plain replacements, never the renderer (which may be what failed).
TEXTS = {
    "en": "We are worried about your safety. If you are in danger, call {emergency} now. You can also "
    "contact {helpline}. A health worker will see your message.",
    "sw": "Tuna wasiwasi kuhusu usalama wako. Ukiwa hatarini, piga {emergency} sasa. Unaweza pia "
    "kuwasiliana na {helpline}. Mhudumu wa afya ataona ujumbe wako.",
    "fr": "Nous nous inquiétons pour votre sécurité. Si vous courez un danger, appelez {emergency} "
    "maintenant. Vous pouvez aussi contacter {helpline}. Un agent de santé verra votre message.",
    "es": "Nos preocupa tu seguridad. Si corres peligro, llama al {emergency} ahora. También puedes "
    "contactar {helpline}. Un trabajador de salud verá tu mensaje.",
    "hi": "हमें आपकी सुरक्षा की चिंता है। खतरा हो तो अभी {emergency} पर फ़ोन करें। आप {helpline} से भी "
    "संपर्क कर सकते हैं। एक स्वास्थ्य कर्मी आपका संदेश देखेगा।",
    "ar": "نحن قلقون على سلامتك. إذا كنت في خطر اتصل بـ {emergency} الآن. يمكنك أيضًا التواصل مع "
    "{helpline}. سيرى عامل صحي رسالتك.",
}
NO_NUMBER = {"en": "your local emergency number"}


def reply(content: Any, region_id: str, locale: str) -> Reply:
    """The built-in crisis text in ``locale`` (else English) for the region's numbers."""
    language = locale if locale in TEXTS else "en"
    emergency, helpline = _numbers(content, region_id)
    text = TEXTS[language].replace("{emergency}", emergency or helpline or NO_NUMBER["en"])
    text = text.replace("{helpline}", helpline or emergency or NO_NUMBER["en"])
    return Reply(ITEM, text, REF, language, kind="crisis")


def _numbers(content: Any, region_id: str) -> tuple[str, str]:
    """(emergency, first crisis line) from the region file; empty when it cannot be read."""
    try:
        region = content.region(region_id)
    except ContentMissing:
        regions = list(content.regions())
        region = regions[0] if regions else None
    if region is None:
        return "", ""
    emergency = format_emergency(region.emergency) if getattr(region, "emergency", None) else ""
    lines = serving(region.helplines, ("crisis",)) or list(region.helplines)
    return emergency, format_helpline(lines[0]) if lines else ""
