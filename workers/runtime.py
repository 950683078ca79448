"""The worker process's services, built once and reused by every job.

Models and the content library live here for the life of the process. RQ's
SimpleWorker runs jobs in this same process (no fork), which is what keeps
CTranslate2 objects safe.
"""

from __future__ import annotations

from bot.config import Config
from bot.conversation import Engine
from bot.services import Services

_services: Services | None = None
_engine: Engine | None = None


def install(services: Services) -> None:
    """Use these services for jobs in this process (the worker entry point and tests)."""
    global _services, _engine
    _services, _engine = services, None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(Config.from_env())
    return _services


def engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = Engine(services().content, default_region=services().config.DEFAULT_REGION)
    return _engine
