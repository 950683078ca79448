"""The erasure ledger: every completed erasure, kept outside the database and its backups.

A backup holds the database as it was that night. Restoring one made before someone's
DELETE would bring that person back, so each completed erasure is also written here, an
append-only file in the state directory (``ERASURE_LEDGER``, by default beside the other
state in ``INSTANCE_DIR``), which no backup carries and no restore rewinds. After a restore,
``flask --app bot erasure replay`` erases again everyone the ledger names who is back in
the database.

A line holds no phone number: only the person's pseudonymous contact key (the keyed HMAC
the service finds contacts by), the time, and counts of what was removed. Each line carries
an HMAC-SHA256 tag under a key derived from ``HMAC_KEY`` for this purpose alone, over its
own fields and the tag of the line before it, so:

- a line that was altered, or written by anyone without the key, fails its tag and is never
  replayed (a forged line could otherwise erase someone who never asked);
- a line removed from the middle, or lines swapped, break the chain at the next line.

Readers report each broken line by number; nothing is skipped silently. Removing the last
lines leaves no trace in the file itself: keep it where only the service and root can write.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FORMAT = 1
_KEY_LABEL = b"tumaini erasure ledger v1"
_TAIL_BYTES = 64 * 1024
_FIELDS = ("v", "at", "contact", "since", "removed", "prev")


def ledger_key(hmac_key: str) -> bytes:
    """The ledger's own tag key, derived from HMAC_KEY so no other tag can be replayed as one."""
    return hmac.new(hmac_key.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class LedgerEntry:
    """One completed erasure: whose (the contact key), when, since when that contact existed
    (its ``created_at``: the same row in any backup has the same one, so a person who wrote
    again after their erasure is told apart from the one erased), and how much went."""

    line: int
    at: datetime
    contact: str
    since: datetime
    removed: Mapping[str, int]


@dataclass(frozen=True)
class LedgerProblem:
    """A line that cannot be trusted, by number, and why (never its content)."""

    line: int
    reason: str


@dataclass(frozen=True)
class LedgerReading:
    """Every authentic entry, and every problem met on the way."""

    entries: list[LedgerEntry] = field(default_factory=list)
    problems: list[LedgerProblem] = field(default_factory=list)
    exists: bool = True

    @property
    def intact(self) -> bool:
        return not self.problems


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time (SQLite gives those back) is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _tag(key: bytes, body: Mapping[str, object]) -> str:
    canonical = json.dumps({k: body[k] for k in _FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode("ascii"), hashlib.sha256).hexdigest()


def _last_tag(handle: int) -> tuple[str, bool]:
    """The tag of the file's last line (empty when there is none), and whether the file ends mid-line."""
    size = os.lseek(handle, 0, os.SEEK_END)
    if size == 0:
        return "", False
    start = max(0, size - _TAIL_BYTES)
    os.lseek(handle, start, os.SEEK_SET)
    tail = os.read(handle, size - start)
    torn = not tail.endswith(b"\n")
    lines = [line for line in tail.split(b"\n") if line.strip()]
    if torn and lines:
        lines = lines[:-1]  # the torn line is reported by readers; the chain goes on from the last whole one
    if not lines:
        return "", torn
    try:
        tag = json.loads(lines[-1]).get("mac", "")
    except (ValueError, AttributeError):
        return "", torn
    return (tag if isinstance(tag, str) else ""), torn


class ErasureLedger:
    """Append and read the ledger file. Appends from several processes are serialised by a lock."""

    def __init__(self, path: Path, key: bytes):
        self.path = path
        self._key = key

    def append(self, contact: str, since: datetime, removed: Mapping[str, int], at: datetime | None = None) -> None:
        """Record one completed erasure, durably (fsync) before the caller commits it.

        Raises OSError when the file cannot be written: the caller's erasure must then not be
        committed, so that it is tried again rather than done without a record.
        """
        when = _utc(at or datetime.now(UTC))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            prev, torn = _last_tag(handle)
            body: dict[str, object] = {"v": FORMAT, "at": when.isoformat(), "contact": contact,
                                       "since": _utc(since).isoformat(),
                                       "removed": {k: int(v) for k, v in removed.items()}, "prev": prev}
            body["mac"] = _tag(self._key, body)
            line = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
            os.write(handle, (b"\n" if torn else b"") + line + b"\n")
            os.fsync(handle)
        finally:
            os.close(handle)  # releases the lock

    def read(self) -> LedgerReading:
        """Every line checked: its tag, its shape and its place in the chain."""
        if not self.path.exists():
            return LedgerReading(exists=False)
        entries: list[LedgerEntry] = []
        problems: list[LedgerProblem] = []
        expected: str | None = ""  # None: the line before was broken, so the chain cannot be checked here
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                checked = self._check(number, raw)
                if isinstance(checked, str):
                    problems.append(LedgerProblem(number, checked))
                    expected = None
                    continue
                entry, tag, prev = checked
                if expected is not None and prev != expected:
                    problems.append(LedgerProblem(number, "the chain is broken here: a line before it was removed, "
                                                          "or lines were reordered"))
                entries.append(entry)
                expected = tag
        return LedgerReading(entries=entries, problems=problems)

    def _check(self, number: int, raw: bytes) -> tuple[LedgerEntry, str, str] | str:
        """(the entry, its tag, the tag it chains to) for a sound line; why not, for a broken one."""
        if not raw.endswith(b"\n"):
            return "the line is incomplete (a write was interrupted)"
        try:
            body = json.loads(raw)
        except ValueError:
            return "the line is not valid JSON (a write cut short, or an edit)"
        if not isinstance(body, dict) or set(body) != {*_FIELDS, "mac"}:
            return "the line does not have the ledger's fields"
        tag = body["mac"]
        if not isinstance(tag, str) or not hmac.compare_digest(tag, _tag(self._key, body)):
            return "the line fails its integrity check (altered, or not written under this HMAC_KEY)"
        try:
            at = datetime.fromisoformat(body["at"])
            since = datetime.fromisoformat(body["since"])
            removed = {str(k): int(v) for k, v in body["removed"].items()}
        except (TypeError, ValueError, AttributeError):
            return "the line's time or counts cannot be read"
        if body["v"] != FORMAT or not isinstance(body["contact"], str) or not isinstance(body["prev"], str) \
                or at.tzinfo is None or since.tzinfo is None:
            return "the line is of an unknown format"
        return LedgerEntry(number, at, body["contact"], since, removed), tag, body["prev"]
