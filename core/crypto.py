"""Pseudonymisation and encryption at rest for health data.

Phone numbers are stored twice: as a keyed HMAC, so a returning person can be
found without the number being readable, and AES-GCM encrypted, so replies can
be sent. Message bodies are AES-GCM encrypted. Every ciphertext names the key it
was sealed with, so keys can be rotated: new data uses the first key, old data
stays readable until it is re-encrypted (``flask --app bot keys rotate``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.exceptions import ConfigError, DecryptionError

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4


def _decode_key(raw: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("ENCRYPTION_KEYS entries must be base64") from None
    if len(key) != 32:
        raise ConfigError("ENCRYPTION_KEYS entries must decode to 32 bytes (AES-256)")
    return key


def new_key() -> str:
    """A fresh base64 AES-256 key, for env files and key rotation."""
    return base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class _Key:
    key_id: bytes
    aead: AESGCM


class Cipher:
    """AES-GCM with a key ring: seal with the newest key, open with any."""

    def __init__(self, keys: tuple[str, ...] | list[str]):
        if not keys:
            raise ConfigError("ENCRYPTION_KEYS must hold at least one key")
        ring = []
        for raw in keys:
            key = _decode_key(raw)
            key_id = hashlib.sha256(key).digest()[:_KEY_ID_BYTES]
            ring.append(_Key(key_id, AESGCM(key)))
        self._current = ring[0]
        self._by_id = {k.key_id: k for k in ring}

    @property
    def current_key_id(self) -> str:
        return self._current.key_id.hex()

    def encrypt(self, plaintext: str, context: bytes = b"") -> bytes:
        """Seal text; ``context`` binds the ciphertext to its purpose (e.g. b"body")."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode("utf-8"), context)
        return _VERSION + self._current.key_id + nonce + sealed

    def decrypt(self, blob: bytes, context: bytes = b"") -> str:
        if not blob or blob[:1] != _VERSION:
            raise DecryptionError("unknown ciphertext format")
        key_id = blob[1 : 1 + _KEY_ID_BYTES]
        key = self._by_id.get(bytes(key_id))
        if key is None:
            raise DecryptionError(f"no configured key has id {bytes(key_id).hex()}")
        start = 1 + _KEY_ID_BYTES
        nonce = blob[start : start + _NONCE_BYTES]
        try:
            return key.aead.decrypt(nonce, bytes(blob[start + _NONCE_BYTES :]), context).decode("utf-8")
        except Exception as exc:  # cryptography raises InvalidTag; keep the type small for callers
            raise DecryptionError("ciphertext failed authentication") from exc

    def key_id_of(self, blob: bytes) -> str:
        return bytes(blob[1 : 1 + _KEY_ID_BYTES]).hex()

    def needs_rotation(self, blob: bytes) -> bool:
        return bytes(blob[1 : 1 + _KEY_ID_BYTES]) != self._current.key_id


class Pseudonymiser:
    """Keyed HMAC of identifiers: stable lookups without storing the identifier."""

    def __init__(self, key: str):
        if not key:
            raise ConfigError("HMAC_KEY must be set")
        self._key = key.encode("utf-8")

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def short(self, value: str) -> str:
        """A short, non-reversible handle for logs (never the number itself)."""
        return self(value)[:12]
