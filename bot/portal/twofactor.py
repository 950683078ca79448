"""Two-step sign-in with time-based one-time codes (TOTP, RFC 6238) for admins and health workers.

They can read decrypted conversations and people's numbers, so a stolen password alone
must not be enough. Any authenticator app works (the secret is shown as text and as an
otpauth:// link; no QR image, so the page stays light on a slow connection). The secret is
stored encrypted with the service's keys. A code is accepted once: ``totp_last_step``
records the newest time step used, so a code read over someone's shoulder cannot be replayed.
An admin resets a lost authenticator with ``flask --app bot users reset-2fa``.
"""

from __future__ import annotations

import hmac
import time

import pyotp

from bot.portal.models import User
from bot.portal.roles import ADMIN, HEALTH_WORKER

ISSUER = "Tumaini"
STEP_S = 30
TWO_FACTOR_ROLES = frozenset({ADMIN, HEALTH_WORKER})
_AAD = b"totp"


def required(user: User) -> bool:
    return user.role in TWO_FACTOR_ROLES


def enrolled(user: User) -> bool:
    return user.totp_secret_enc is not None and user.totp_last_step is not None


def pending_secret(user: User, cipher) -> str:  # type: ignore[no-untyped-def]
    """The secret shown while enrolling: made on first view, the same until confirmed."""
    if user.totp_secret_enc is None:
        user.totp_secret_enc = cipher.encrypt(pyotp.random_base32(), _AAD)
    return cipher.decrypt(user.totp_secret_enc, _AAD)


def link(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def verify(user: User, code: str, cipher, now: float | None = None) -> bool:  # type: ignore[no-untyped-def]
    """True (and the code used up) when ``code`` is this user's code for now, or the step either side."""
    code = "".join(ch for ch in code if ch.isascii() and ch.isdigit())
    if user.totp_secret_enc is None or len(code) != 6:
        return False
    totp = pyotp.TOTP(cipher.decrypt(user.totp_secret_enc, _AAD))
    current = int((time.time() if now is None else now) // STEP_S)
    for step in (current - 1, current, current + 1):
        if step <= (user.totp_last_step or -1):
            continue
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            user.totp_last_step = step
            return True
    return False


def reset(user: User) -> None:
    """Forget the authenticator: the next sign-in enrols a new one."""
    user.totp_secret_enc = None
    user.totp_last_step = None
    user.session_epoch += 1
