"""The guarded dialogue model: short supportive-listening replies from a small local LLM.

A CTranslate2 int8 Generator (SmolLM2-135M-Instruct by default, installed through the model
store) writes one or two warm sentences; a deterministic output guard blocks anything a
listening service must not say, and the caller then sends approved content instead. NGOs can
switch generation off per deployment or per language (``generation_allowed``).

Importing this package loads no model: the generator loads on first use in the worker.
"""

from bot.dialogue.guard import GuardVerdict, OutputGuard
from bot.dialogue.pipeline import DialogueResult, DialogueService, respond
from bot.dialogue.settings import DialogueSettings, generation_allowed

__all__ = ["DialogueResult", "DialogueService", "DialogueSettings", "GuardVerdict", "OutputGuard",
           "generation_allowed", "respond"]
