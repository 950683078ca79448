"""The content model: what Tumaini says, in which language, and who vouched for it.

Every piece of text is a :class:`Message` with one :class:`Text` per locale and version.
A Text is the unit of review: it has a status, a version, per-channel bodies and its own
provenance, so it maps one-to-one onto a database row (message id, locale, version).
Structures (modules, courses, screening instruments) are locale-independent and refer
to messages by id, so translating a module never touches its structure.

All classes are frozen: a loaded library is a value that can be compared, cached and
shared between threads. ``origin`` fields say where an object was read from (file and
line) for editor-facing messages; they take no part in equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Review status of one version of one text; only approved text is ever sent."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    RETIRED = "retired"


CHANNELS = ("sms", "whatsapp")
MESSAGE_KINDS = ("message", "crisis")
KEYWORD_ACTIONS = (
    "stop",
    "start",
    "help",
    "talk",
    "bot",
    "data",
    "delete",
    "menu",
    "language",
    "region",
    "yes",
    "no",
    "unsure",
    "next",
    "back",
    "pause",
    "resume",
    "time",
)
# Conveniences a keyword set may leave out without a warning (TIME 7: when reminders come;
# REGION matters only where a deployment serves several regions; UNSURE, "maybe" or "sometimes"
# to the direct safety question, counts as YES there and means nothing elsewhere).
OPTIONAL_KEYWORD_ACTIONS = ("time", "region", "unsure")
CHOICE_ACTIONS = ("next", "back", "menu", "module", "screening", "course")
# What a region's service is for; a crisis pathway names the ones it points a person to.
SERVICES = ("crisis", "emergency", "gbv", "child_protection", "mental_health", "health")
# The safety gate's crisis categories (bot.safety.levels.PATHWAY_PRECEDENCE), each with a pathway.
RISK_CATEGORIES = (
    "suicide",
    "self_harm",
    "third_party",
    "command_hallucination",
    "violence",
    "child_safeguarding",
    "sexual_violence",
)
CASE_SEVERITIES = ("high", "imminent")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def placeholders(body: str) -> frozenset[str]:
    """The named ``{placeholders}`` in a body."""
    return frozenset(PLACEHOLDER.findall(body))


@dataclass(frozen=True)
class Provenance:
    """Who wrote, adapted and vouched for a text; shown to reviewers and kept for audit."""

    author: str
    co_design: str = ""
    cultural_adaptation: str = ""
    lived_experience_signoff: str = ""
    clinical_reviewer: str = ""
    language_reviewer: str = ""
    evidence_sources: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Text:
    """One locale's wording of a message at one version (a database row)."""

    locale: str
    version: int
    status: Status
    sms: str
    provenance: Provenance
    whatsapp: str | None = None
    source_version: int | None = None
    origin: str = field(default="", compare=False)

    def body(self, channel: str) -> str:
        """The body for a channel; WhatsApp falls back to the SMS body."""
        if channel == "whatsapp" and self.whatsapp:
            return self.whatsapp
        if channel in CHANNELS:
            return self.sms
        raise ValueError(f"unknown channel {channel!r}")


@dataclass(frozen=True)
class Message:
    """A piece of text with its translations; ``kind`` is "message" or "crisis"."""

    id: str
    source_locale: str
    texts: tuple[Text, ...]
    kind: str = "message"
    segment_budget: int | None = None
    origin: str = field(default="", compare=False)

    def text(self, locale: str, approved_only: bool = True) -> Text | None:
        """The newest version in a locale: approved only for sending, any but retired for previews."""
        found = [
            t
            for t in self.texts
            if t.locale == locale and t.status != Status.RETIRED and (t.status == Status.APPROVED or not approved_only)
        ]
        return max(found, key=lambda t: t.version) if found else None

    def locales(self) -> list[str]:
        """Locales that have any text."""
        return sorted({t.locale for t in self.texts})

    @property
    def source(self) -> Text | None:
        """The newest source-locale text, approved or not."""
        return self.text(self.source_locale, approved_only=False)


@dataclass(frozen=True)
class Choice:
    """A reply a person can give inside a module: a keyword action, or a numbered jump."""

    action: str
    target: str | None = None
    reply: str | None = None


@dataclass(frozen=True)
class Module:
    """A psychoeducation module: ordered step messages and the replies it accepts."""

    id: str
    version: int
    status: Status
    title_id: str
    steps: tuple[str, ...]
    provenance: Provenance
    source_locale: str
    menu_number: int | None = None
    choices: tuple[Choice, ...] = ()
    origin: str = field(default="", compare=False)


@dataclass(frozen=True)
class CourseStep:
    """One drip message, sent ``day`` days after enrolment (0 is the day of enrolment)."""

    day: int
    message_id: str


@dataclass(frozen=True)
class Course:
    """A drip sequence; ``repeat_every_days`` makes it a recurring check-in."""

    id: str
    version: int
    status: Status
    title_id: str
    steps: tuple[CourseStep, ...]
    provenance: Provenance
    source_locale: str
    send_time: str = "09:00"
    repeat_every_days: int | None = None
    origin: str = field(default="", compare=False)


@dataclass(frozen=True)
class Question:
    """A screening item; ``crisis_if_above`` flags answers above it for the crisis path."""

    message_id: str
    crisis_if_above: int | None = None


@dataclass(frozen=True)
class ScaleOption:
    """One answer on the scale, with its brief label as a message."""

    value: int
    label_id: str


@dataclass(frozen=True)
class Band:
    """A score range (inclusive) with its meaning and the message that explains it."""

    min: int
    max: int
    severity: str
    message_id: str
    follow_up: str | None = None


@dataclass(frozen=True)
class Screening:
    """A screening instrument (PHQ-9, GAD-7...): items, answer scale and scoring bands."""

    id: str
    version: int
    status: Status
    name: str
    intro_id: str
    scale_help_id: str
    help_id: str
    questions: tuple[Question, ...]
    scale: tuple[ScaleOption, ...]
    bands: tuple[Band, ...]
    provenance: Provenance
    source_locale: str
    origin: str = field(default="", compare=False)

    @property
    def max_score(self) -> int:
        """Highest possible total score."""
        return len(self.questions) * max(option.value for option in self.scale)

    def score(self, answers: list[int]) -> int:
        """Total score; answers must be complete and on the scale."""
        allowed = {option.value for option in self.scale}
        if len(answers) != len(self.questions) or any(a not in allowed for a in answers):
            raise ValueError(f"{self.id} needs {len(self.questions)} answers from {sorted(allowed)}")
        return sum(answers)

    def band(self, score: int) -> Band:
        """The band a total score falls in."""
        for band in self.bands:
            if band.min <= score <= band.max:
                return band
        raise ValueError(f"score {score} is outside {self.id}'s bands")

    def crisis_items(self, answers: list[int]) -> list[int]:
        """1-based numbers of the items whose answer calls for the crisis path."""
        return [
            number
            for number, (question, answer) in enumerate(zip(self.questions, answers, strict=False), 1)
            if question.crisis_if_above is not None and answer > question.crisis_if_above
        ]


@dataclass(frozen=True)
class KeywordSet:
    """A locale's reply keywords, per action, with every synonym people use."""

    locale: str
    version: int
    status: Status
    actions: tuple[tuple[str, tuple[str, ...]], ...]
    provenance: Provenance
    origin: str = field(default="", compare=False)

    def words(self, action: str) -> tuple[str, ...]:
        """The words for one action (empty when the set has none)."""
        return dict(self.actions).get(action, ())


@dataclass(frozen=True)
class Glossary:
    """Preferred terms in a locale, keyed by the source-language term."""

    locale: str
    version: int
    status: Status
    terms: tuple[tuple[str, str], ...]
    provenance: Provenance
    origin: str = field(default="", compare=False)


@dataclass(frozen=True)
class Helpline:
    """A service people can call; placeholders must be replaced before going live.

    ``serves`` says what it is for (see SERVICES): a crisis reply names only the services
    of its pathway. ``opening_hours`` is the weekly timetable in the region's time zone
    (content.hours: ``24/7`` or ``mon-fri 08:00-17:00``), so a reply names a service as
    open only while it is; ``hours`` is free text shown where no timetable is given.
    """

    name: str
    number: str
    hours: str = ""
    placeholder: bool = False
    description: str = ""
    serves: tuple[str, ...] = ("crisis",)
    opening_hours: str = ""


@dataclass(frozen=True)
class Emergency:
    """The region's number for danger now (police, ambulance): always given when harm is under way."""

    number: str
    name: str = ""
    placeholder: bool = False


@dataclass(frozen=True)
class Pathway:
    """What a person in one risk category receives, locale-independent.

    ``reply`` is the first message (``crisis.<category>``), ``steps`` the short flow a
    YES walks through (the safety plan, safety steps, how to help a friend), ``followup``
    the answer to anything else while the case is open (``crisis.<category>.followup``).
    ``services`` are the kinds of service its ``{helplines}`` names, in order, and
    ``severity`` the least a case of this category is opened at.
    """

    category: str
    severity: str
    services: tuple[str, ...]
    reply: str
    followup: str
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    """Where the service runs: helplines, locales and what numbers and links content may hold."""

    id: str
    name: str
    country_codes: tuple[str, ...]
    time_zone: str
    default_locale: str
    locales: tuple[str, ...]
    required_locales: tuple[str, ...]
    helplines: tuple[Helpline, ...]
    allowed_numbers: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)
    emergency: Emergency | None = None

    @property
    def emergency_number(self) -> str:
        return self.emergency.number if self.emergency else ""


@dataclass(frozen=True)
class Settings:
    """Library-wide settings (content/library/library.yaml)."""

    source_locale: str = "en"
    default_locale: str = "en"
    default_region: str | None = None
    sms_segment_budget: int = 3
    placeholder_examples: tuple[tuple[str, str], ...] = ()
    pathways: tuple[Pathway, ...] = ()

    def pathway(self, category: str | None) -> Pathway | None:
        """The pathway of a risk category, or None when the library has none for it."""
        return next((p for p in self.pathways if p.category == category), None)


@dataclass(frozen=True)
class Library:
    """Everything loaded from a content directory or spreadsheet, in a canonical order."""

    settings: Settings
    messages: tuple[Message, ...] = ()
    modules: tuple[Module, ...] = ()
    courses: tuple[Course, ...] = ()
    screenings: tuple[Screening, ...] = ()
    keyword_sets: tuple[KeywordSet, ...] = ()
    glossaries: tuple[Glossary, ...] = ()
    regions: tuple[Region, ...] = ()

    def canonical(self) -> Library:
        """The same library with every collection sorted, so equal content compares equal."""
        messages = tuple(
            Message(m.id, m.source_locale, _sorted_texts(m.texts), m.kind, m.segment_budget, m.origin)
            for m in sorted(self.messages, key=lambda m: m.id)
        )
        return Library(
            self.settings,
            messages,
            tuple(sorted(self.modules, key=lambda x: x.id)),
            tuple(sorted(self.courses, key=lambda x: x.id)),
            tuple(sorted(self.screenings, key=lambda x: x.id)),
            tuple(sorted(self.keyword_sets, key=lambda x: (x.locale, x.version))),
            tuple(sorted(self.glossaries, key=lambda x: (x.locale, x.version))),
            tuple(sorted(self.regions, key=lambda x: x.id)),
        )

    def locales(self) -> list[str]:
        """Every locale that has any text, keyword set or glossary."""
        found = {t.locale for m in self.messages for t in m.texts}
        found |= {k.locale for k in self.keyword_sets} | {g.locale for g in self.glossaries}
        return sorted(found)

    def message_owners(self) -> dict[str, str]:
        """Which structure each message belongs to ("module:sleep"...), for layout and review."""
        owners: dict[str, str] = {}
        for module in self.modules:
            for mid in (module.title_id, *module.steps):
                owners.setdefault(mid, f"module:{module.id}")
        for course in self.courses:
            for mid in (course.title_id, *(s.message_id for s in course.steps)):
                owners.setdefault(mid, f"course:{course.id}")
        for screening in self.screenings:
            for mid in screening_message_ids(screening):
                owners.setdefault(mid, f"screening:{screening.id}")
        return owners


def screening_message_ids(screening: Screening) -> list[str]:
    """Every message a screening instrument refers to, in reading order."""
    return [
        screening.intro_id,
        screening.scale_help_id,
        *(q.message_id for q in screening.questions),
        *(o.label_id for o in screening.scale),
        *(b.message_id for b in screening.bands),
        screening.help_id,
    ]


def _sorted_texts(texts: tuple[Text, ...]) -> tuple[Text, ...]:
    return tuple(sorted(texts, key=lambda t: (t.locale, t.version)))
