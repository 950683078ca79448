"""Authenticate a backup: encrypt-then-MAC around ``openssl enc``'s ciphertext.

``openssl enc`` has no authenticated (AEAD) mode, so a backup is sealed like this:

    TUMAINI-BACKUP/2 <salt, hex> <iterations>\\n     a header line
    <openssl enc ciphertext>                         AES-256-CBC, PBKDF2, its own salt
    <HMAC-SHA256 tag, 32 bytes>                      over the header and the ciphertext

The MAC key comes from the same passphrase through PBKDF2-HMAC-SHA256 with a salt of its own,
so it is independent of the encryption key. ``open`` checks the tag over the whole file before
it writes one byte of ciphertext, so a damaged or altered backup is never decrypted, let alone
restored. Python's standard library only: it runs with the system python3.

    python3 backup_seal.py seal --passphrase-file FILE  < ciphertext > sealed
    python3 backup_seal.py open --passphrase-file FILE SEALED > ciphertext   (exit 3: not authentic)
    python3 backup_seal.py is-sealed FILE                                     (exit 0 if format 2)
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import sys
from pathlib import Path

MAGIC = b"TUMAINI-BACKUP/2 "
ITERATIONS = 200_000
TAG_BYTES = 32
CHUNK = 1 << 20
NOT_AUTHENTIC = 3


def _passphrase(path: str) -> bytes:
    """The first line of the file, as ``openssl enc -pass file:`` reads it."""
    first = Path(path).read_bytes().split(b"\n", 1)[0].rstrip(b"\r")
    if not first:
        sys.exit(f"backup_seal: passphrase file {path} is empty")
    return first


def _key(passphrase: bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", passphrase, b"tumaini-backup-mac" + salt, iterations, 32)


def seal(passphrase_file: str) -> None:
    salt = os.urandom(16)
    header = MAGIC + salt.hex().encode() + b" " + str(ITERATIONS).encode() + b"\n"
    mac = hmac.new(_key(_passphrase(passphrase_file), salt, ITERATIONS), header, hashlib.sha256)
    out = sys.stdout.buffer
    out.write(header)
    while chunk := sys.stdin.buffer.read(CHUNK):
        mac.update(chunk)
        out.write(chunk)
    out.write(mac.digest())
    out.flush()


def _header(handle) -> tuple[bytes, bytes, int]:
    line = handle.readline(200)
    if not line.startswith(MAGIC) or not line.endswith(b"\n"):
        raise ValueError("not a sealed Tumaini backup")
    salt_hex, iterations = line[len(MAGIC):].split()
    return line, bytes.fromhex(salt_hex.decode()), int(iterations)


def open_sealed(passphrase_file: str, path: str) -> int:
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        try:
            header, salt, iterations = _header(handle)
        except ValueError as exc:
            print(f"backup_seal: {path}: {exc}", file=sys.stderr)
            return NOT_AUTHENTIC
        body = size - len(header) - TAG_BYTES
        if body < 0:
            print(f"backup_seal: {path}: too short", file=sys.stderr)
            return NOT_AUTHENTIC
        mac = hmac.new(_key(_passphrase(passphrase_file), salt, iterations), header, hashlib.sha256)
        left = body
        while left:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                break
            mac.update(chunk)
            left -= len(chunk)
        if not hmac.compare_digest(mac.digest(), handle.read(TAG_BYTES)):
            print(f"backup_seal: {path}: failed authentication", file=sys.stderr)
            return NOT_AUTHENTIC
        # Authentic: only now is any ciphertext handed on for decryption.
        handle.seek(len(header))
        out = sys.stdout.buffer
        left = body
        while left:
            chunk = handle.read(min(CHUNK, left))
            out.write(chunk)
            left -= len(chunk)
        out.flush()
    return 0


def is_sealed(path: str) -> int:
    with open(path, "rb") as handle:
        return 0 if handle.read(len(MAGIC)) == MAGIC else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("seal", "open"):
        command = sub.add_parser(name)
        command.add_argument("--passphrase-file", required=True)
        if name == "open":
            command.add_argument("path")
    sub.add_parser("is-sealed").add_argument("path")
    args = parser.parse_args(argv)
    if args.command == "seal":
        seal(args.passphrase_file)
        return 0
    if args.command == "open":
        return open_sealed(args.passphrase_file, args.path)
    return is_sealed(args.path)


if __name__ == "__main__":
    sys.exit(main())
