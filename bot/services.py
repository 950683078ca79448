"""The collaborators a process needs, built once from Config.

Web processes and workers share this wiring; tests hand in their own Config.
Redis and the content library are opened lazily, so creating the app or a
worker does no network or disk work until something is used.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.channels.twilio import TwilioMessaging
from core.config import Config
from core.crypto import Cipher, Pseudonymiser
from core.db import Database
from core.erasure_ledger import ErasureLedger, ledger_key
from core.queue import JobQueue, connect

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Services:
    def __init__(self, config: Config):
        self.config = config
        self._lock = threading.Lock()

    @cached_property
    def db(self) -> Database:
        return Database(self.config.database_url)

    @cached_property
    def cipher(self) -> Cipher:
        return Cipher(self.config.ENCRYPTION_KEYS)

    @cached_property
    def pseudonymise(self) -> Pseudonymiser:
        return Pseudonymiser(self.config.HMAC_KEY)

    @cached_property
    def erasure_ledger(self) -> ErasureLedger:
        return ErasureLedger(self.config.erasure_ledger_path, ledger_key(self.config.HMAC_KEY))

    @cached_property
    def redis(self) -> Any:
        from bot.embedded_redis import redis_url

        return connect(redis_url(self.config))

    @cached_property
    def jobs(self) -> JobQueue:
        return JobQueue(self.redis, job_timeout=self.config.JOB_TIMEOUT_S)

    @cached_property
    def channel(self) -> TwilioMessaging:
        c = self.config
        return TwilioMessaging(
            account_sid=c.TWILIO_ACCOUNT_SID,
            auth_token=c.TWILIO_AUTH_TOKEN,
            api_base=c.TWILIO_API_BASE,
            sms_from=c.TWILIO_SMS_FROM,
            whatsapp_from=c.TWILIO_WHATSAPP_FROM,
            messaging_service_sid=c.TWILIO_MESSAGING_SERVICE_SID,
            status_callback=c.PUBLIC_BASE_URL.rstrip("/") + "/twilio/status",
            timeout_s=c.TWILIO_TIMEOUT_S,
        )

    @cached_property
    def library(self) -> Any:
        """The YAML library as shipped: structures (modules, courses, regions, keywords)
        and the texts a fresh install starts from. Render text with :meth:`content`."""
        from pathlib import Path

        from content.store import ContentStore

        return ContentStore.from_library(Path(self.config.CONTENT_DIR))

    @cached_property
    def _content_source(self) -> Any:
        from content.db import DbContentSource

        return DbContentSource(self.library.library)

    def content(self, session: Session | None = None) -> Any:
        """Approved content now: the portal's approved versions over the library.

        The one source for everything that renders text: replies, scheduled sends and
        WhatsApp templates alike. The store is rebuilt only when a version changed. Inside
        a transaction pass its session (a SQLite session holds the write lock).
        """
        if session is None:
            with self.db.session() as own:
                return self.content(own)
        with self._lock:
            return self._content_source.current(session) or self.library

    @cached_property
    def dialogue(self) -> Any:
        from bot.dialogue import DialogueService

        return DialogueService.from_config(self.config)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
        if "redis" in self.__dict__:
            self.redis.close()
