"""A local stand-in for Twilio's Messages API.

It speaks the same HTTP as api.twilio.com (basic auth, form posts, Twilio's
JSON and error bodies), so the real ``twilio`` client talks to it unchanged
through ``TWILIO_API_BASE``. The demo uses it to show replies on the simulated
phone; tests use it to script failures (500, 429, any Twilio error code, once
or for every message to one address) and to check the exact requests the
service made, refused ones included.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Protocol

from flask import Blueprint, Flask, Response, request


@dataclass
class StoredMessage:
    sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: str
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    content_sid: str | None = None  # an approved WhatsApp template, sent instead of a Body
    content_variables: str | None = None


# Twilio's own messages for the error codes tests script (https://www.twilio.com/docs/api/errors).
ERROR_MESSAGES = {
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    30001: "Queue overflow",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    63016: "Failed to send freeform message because you are outside the allowed window. If you are using "
    "WhatsApp, please use a Message Template.",
    63018: "Rate limit exceeded for Channel",
}


@dataclass
class Scripted:
    """A scripted answer: an error (status >= 400), or a success after ``delay_s``."""

    status: int
    code: int | None = None
    message: str = ""
    delay_s: float = 0.0

    @classmethod
    def twilio_error(cls, code: int, status: int = 400) -> Scripted:
        """The error Twilio returns for ``code``, with its own message."""
        return cls(status=status, code=code, message=ERROR_MESSAGES.get(code, "scripted failure"))


@dataclass(frozen=True)
class ReceivedRequest:
    """One create-message request as it arrived, whatever the answer was."""

    path: str
    form: dict[str, str]
    authorization: str
    answered: int  # the HTTP status the stand-in gave


class MessageStore(Protocol):
    def add(self, message: StoredMessage) -> None: ...
    def all(self) -> list[StoredMessage]: ...
    def for_address(self, to: str) -> list[StoredMessage]: ...
    def next_failure(self, to: str = "") -> Scripted | None: ...
    def received(self, request: ReceivedRequest) -> None: ...
    def delete(self, sid: str) -> bool: ...


@dataclass
class MemoryStore:
    """In-process store for tests: thread-safe, with a script of failures to return.

    ``script`` queues answers for the next requests, whoever they are to;
    ``fail_address`` refuses every message to one address until cleared.
    """

    messages: list[StoredMessage] = field(default_factory=list)
    failures: deque[Scripted] = field(default_factory=deque)
    deleted: list[StoredMessage] = field(default_factory=list)  # deleted through the API, in order
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    by_address: dict[str, Scripted] = field(default_factory=dict)
    log: list[ReceivedRequest] = field(default_factory=list)

    def add(self, message: StoredMessage) -> None:
        with self.lock:
            self.messages.append(message)

    def all(self) -> list[StoredMessage]:
        with self.lock:
            return list(self.messages)

    def for_address(self, to: str) -> list[StoredMessage]:
        return [m for m in self.all() if m.to == to]

    def next_failure(self, to: str = "") -> Scripted | None:
        with self.lock:
            self.requests += 1
            if self.failures:
                return self.failures.popleft()
            return self.by_address.get(to)

    def received(self, request: ReceivedRequest) -> None:
        with self.lock:
            self.log.append(request)

    def received_requests(self) -> list[ReceivedRequest]:
        with self.lock:
            return list(self.log)

    def delete(self, sid: str) -> bool:
        with self.lock:
            gone = [m for m in self.messages if m.sid == sid]
            self.messages[:] = [m for m in self.messages if m.sid != sid]
            self.deleted.extend(gone)
            return bool(gone)

    def script(self, *failures: Scripted) -> None:
        with self.lock:
            self.failures.extend(failures)

    def fail_address(self, to: str, failure: Scripted | None) -> None:
        """Answer every message to ``to`` with ``failure`` (None: accept them again)."""
        with self.lock:
            if failure is None:
                self.by_address.pop(to, None)
            else:
                self.by_address[to] = failure

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.failures.clear()
            self.by_address.clear()
            self.log.clear()
            self.requests = 0


class RedisStore:
    """Shared store for the demo, where several web processes serve the stand-in."""

    def __init__(self, redis: Callable[[], Any], ttl_s: int = 24 * 3600):
        self._redis = redis  # a callable, so the connection opens on first use
        self.ttl_s = ttl_s

    @property
    def redis(self) -> Any:
        return self._redis()

    def _key(self, to: str) -> str:
        return f"standin:messages:{to}"

    def add(self, message: StoredMessage) -> None:
        key = self._key(message.to)
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(asdict(message)))
            pipe.ltrim(key, -200, -1)
            pipe.expire(key, self.ttl_s)
            pipe.execute()

    def for_address(self, to: str) -> list[StoredMessage]:
        return [StoredMessage(**json.loads(raw)) for raw in self.redis.lrange(self._key(to), 0, -1)]

    def all(self) -> list[StoredMessage]:
        out: list[StoredMessage] = []
        for key in self.redis.scan_iter("standin:messages:*"):
            out.extend(StoredMessage(**json.loads(raw)) for raw in self.redis.lrange(key, 0, -1))
        return out

    def next_failure(self, to: str = "") -> Scripted | None:
        return None

    def received(self, request: ReceivedRequest) -> None:
        return None

    def delete(self, sid: str) -> bool:
        for key in self.redis.scan_iter("standin:messages:*"):
            for raw in self.redis.lrange(key, 0, -1):
                if json.loads(raw).get("sid") == sid:
                    return bool(self.redis.lrem(key, 0, raw))
        return False


def _error(status: int, code: int | None, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _to_json(account_sid: str, m: StoredMessage) -> dict[str, Any]:
    return {
        "sid": m.sid,
        "account_sid": account_sid,
        "to": m.to,
        "from": m.from_,
        "body": m.body,
        "status": m.status,
        "date_created": m.date_created,
        "date_sent": m.date_created,
        "date_updated": m.date_created,
        "direction": "outbound-api",
        "num_segments": "1",
        "messaging_service_sid": m.messaging_service_sid,
        "error_code": None,
        "error_message": None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{m.sid}.json",
    }


def make_blueprint(
    store: MessageStore, account_sid: str, auth_token: str, name: str = "twilio_standin", url_prefix: str = ""
) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    path = "/2010-04-01/Accounts/<sid>/Messages.json"

    def _authorised(sid: str) -> bool:
        return sid == account_sid and secrets.compare_digest(request.headers.get("Authorization", ""), expected)

    @bp.post(path)
    def create(sid: str) -> Response:
        if not _authorised(sid):
            return _error(401, 20003, "Authenticate")
        to = request.form.get("To", "")
        failure = store.next_failure(to)
        if failure is not None and failure.delay_s:
            time.sleep(failure.delay_s)
        answered = failure.status if failure is not None and failure.status >= 400 else 201
        store.received(
            ReceivedRequest(
                path=request.path,
                form=request.form.to_dict(),
                authorization=request.headers.get("Authorization", ""),
                answered=answered,
            )
        )
        if failure is not None and failure.status >= 400:
            return _error(
                failure.status,
                failure.code,
                failure.message or ERROR_MESSAGES.get(failure.code or 0, "scripted failure"),
            )
        sender = request.form.get("From", "")
        service = request.form.get("MessagingServiceSid")
        body = request.form.get("Body", "")
        content_sid = request.form.get("ContentSid")
        variables = request.form.get("ContentVariables")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        if content_sid:
            if not content_sid.startswith("HX"):
                return _error(400, 21656, "The ContentSid is invalid.")
            try:
                values = json.loads(variables) if variables else {}
            except ValueError:
                return _error(400, 21656, "The ContentVariables Parameter is invalid.")
            # The stand-in's templates are "{{1}}": what the person reads is the first variable.
            body = body or str(values.get("1", ""))
        elif not body:
            return _error(400, 21602, "Message body is required.")
        now = format_datetime(datetime.now(UTC), usegmt=True)
        message = StoredMessage(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=sender,
            body=body,
            status="queued",
            date_created=now,
            messaging_service_sid=service,
            status_callback=request.form.get("StatusCallback"),
            content_sid=content_sid,
            content_variables=variables,
        )
        store.add(message)
        return Response(json.dumps(_to_json(account_sid, message)), status=201, mimetype="application/json")

    @bp.get(path)
    def listing(sid: str) -> Response:
        if not _authorised(sid):
            return _error(401, 20003, "Authenticate")
        to = request.args.get("To")
        found = store.for_address(to) if to else store.all()
        payload = {
            "messages": [_to_json(account_sid, m) for m in found],
            "page": 0,
            "page_size": len(found),
            "next_page_uri": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages.json",
        }
        return Response(json.dumps(payload), mimetype="application/json")

    @bp.delete("/2010-04-01/Accounts/<sid>/Messages/<message_sid>.json")
    def remove(sid: str, message_sid: str) -> Response:
        """Twilio's DELETE of a message record: 204, or 404 when there is no such message."""
        if not _authorised(sid):
            return _error(401, 20003, "Authenticate")
        failure = store.next_failure()
        if failure is not None and failure.status >= 400:
            return _error(failure.status, failure.code, failure.message)
        if not store.delete(message_sid):
            return _error(404, 20404, f"The requested resource /Messages/{message_sid}.json was not found")
        return Response(status=204)

    return bp


def create_standin_app(store: MessageStore, account_sid: str, auth_token: str) -> Flask:
    """A standalone stand-in server (tests run it on a loopback port)."""
    app = Flask("twilio_standin")
    app.register_blueprint(make_blueprint(store, account_sid, auth_token))
    return app
