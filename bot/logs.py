"""Structured JSON logs that never carry personal data.

Callers log events and ids (``log.info("inbound.stored", extra={"message_id": 7})``).
As a second line of defence, anything that looks like a phone number is
masked before a record is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_PHONE = re.compile(r"(?:\+|whatsapp:)\d[\d\s\-().]{5,}\d|\b\d{9,15}\b")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def scrub(text: str) -> str:
    return _PHONE.sub("[number]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Route every logger through one JSON handler on stderr (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            root.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
