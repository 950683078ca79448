"""The conversation: a pure state machine over approved content."""

from bot.conversation.engine import Engine
from bot.conversation.text import native_name
from bot.conversation.types import Generated, Outcome, Profile, Reply, Turn

__all__ = ["Engine", "Generated", "Outcome", "Profile", "Reply", "Turn", "native_name"]
