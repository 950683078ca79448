"""Health data in a person's conversation state, sealed at rest.

The engine keeps screening answers and a pending follow-up offer in the state like
anything else; the worker seals those keys (AES-GCM, like message bodies) before the state
is written and opens them when it is read, so the contacts table never holds them in the
clear. They live a few messages at most, so a seal under a key since removed is dropped
(the screening starts again) rather than failing the turn.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from core.exceptions import DecryptionError

log = logging.getLogger(__name__)

SEALED_KEYS = ("answers", "offer")
FIELD = "sealed"
CONTEXT = b"state"


def seal(cipher: Any, state: dict[str, Any]) -> dict[str, Any]:
    held = {key: state[key] for key in SEALED_KEYS if key in state}
    out = {k: v for k, v in state.items() if k not in SEALED_KEYS and k != FIELD}
    if held:
        out[FIELD] = base64.b64encode(cipher.encrypt(json.dumps(held), CONTEXT)).decode("ascii")
    return out


def unseal(cipher: Any, state: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(state or {})
    blob = out.pop(FIELD, None)
    if not isinstance(blob, str):
        return out
    try:
        held = json.loads(cipher.decrypt(base64.b64decode(blob), CONTEXT))
    except (DecryptionError, ValueError):
        log.warning("state.unseal_failed")
        return out
    out.update({k: v for k, v in held.items() if k in SEALED_KEYS})
    return out
