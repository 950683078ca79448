"""Model names, which become directory names under MODELS_DIR.

Both the store and bundle import check names with this one rule, so a name a bundle carries
can never reach a path the store itself would refuse.
"""

from __future__ import annotations

import re

from translation.store_errors import StoreError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_name(name: str) -> str:
    """Refuse anything that could escape MODELS_DIR; return the name unchanged."""
    if not NAME_PATTERN.match(name) or name.endswith((".tmp",)):
        raise StoreError(f"{name!r} is not a valid model name (letters, digits, '.', '_' and '-' only)")
    return name
