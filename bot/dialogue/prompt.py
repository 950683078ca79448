"""The system prompt for supportive listening, and the conversation handed to the model.

The model's job is narrow: acknowledge what the person said, warmly and briefly. The engine then
sends approved content after it: the closest topics as a numbered choice and the TALK keyword
(bot.conversation.freetext), so the reply always leads somewhere. It gives no advice, no diagnosis and no promises, and never claims to be a
person or a therapist. Small models follow short, concrete instructions best, so the prompt is
short; the output guard enforces the same rules whatever the model does.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.dialogue.chat import Message

SYSTEM_PROMPT = (
    "You are Tumaini, a kind listening companion in a text message support service. "
    "You are a computer program, not a person, not a therapist and not a doctor. "
    "Reply in one or two short, warm sentences. Say back what the person feels and thank them for sharing. "
    "Do not give advice. Do not name medicines. Do not diagnose. Do not make promises, "
    "and never say you will be there for them or support them over time. "
    "Topics they can choose are sent after your reply, so do not list any."
)


def system_prompt(menu_keyword: str = "MENU") -> str:
    """The system prompt naming this deployment's menu keyword (it differs per language)."""
    return SYSTEM_PROMPT.format(menu=menu_keyword)


def build_messages(text: str, history: Sequence[Message] = (), menu_keyword: str = "MENU",
                   max_history: int = 4) -> list[Message]:
    """System prompt, the last few turns (oldest first), then the person's message.

    History is capped: every extra turn costs prompt time on a 2-core server, and a listening
    reply needs the current message far more than the older ones.
    """
    messages: list[Message] = [{"role": "system", "content": system_prompt(menu_keyword)}]
    for turn in list(history)[-max_history:] if max_history else []:
        if turn.get("role") in ("user", "assistant") and turn.get("content"):
            messages.append({"role": turn["role"], "content": turn["content"]})
    messages.append({"role": "user", "content": text.strip()})
    return messages
