"""Read a content directory (YAML) into a :class:`~content.schema.Library`.

Layout: ``library.yaml`` (kind: library), ``regions/<id>.yaml`` (kind: region) and
``<locale>/*.yaml``. Each file says its ``kind``; files of kinds this layer does not own
(the safety gate's ``crisis_lexicon``, for one) are skipped. Structure files (module,
course, screening) define a structure in the locale of their folder, with its texts
inline; files in other locales translate those texts as plain ``messages``.

Problems are collected across all files and raised together, each with file and line.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from content.entries import VALID_ID, Defaults, TextEntries, make_provenance, required_status
from content.errors import LoadError
from content.regions import read_region, read_settings
from content.schema import (
    Band,
    Choice,
    Course,
    CourseStep,
    Glossary,
    KeywordSet,
    Library,
    Module,
    Question,
    Region,
    ScaleOption,
    Screening,
    Settings,
)
from content.yamlnodes import Node, read_document

log = logging.getLogger(__name__)

HANDLED_KINDS = frozenset(
    {"library", "region", "messages", "crisis", "module", "course", "screening", "keywords", "glossary"}
)
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_TOP_COMMON = {"kind", "version", "status", "provenance"}


def load_library(path: Path, require_sources: bool = True) -> Library:
    """Load every handled YAML file under ``path``; raise LoadError listing all problems.

    ``require_sources=False`` reads a translation pack whose source texts live in the
    library it will be merged into.
    """
    reader = _Reader(path)
    reader.read_all()
    if reader.problems:
        raise LoadError(f"{len(reader.problems)} problem(s) in {path}", reader.problems)
    return reader.library(require_sources)


def owned_files(path: Path) -> list[Path]:
    """The YAML files this layer reads (and may rewrite on import), in a stable order."""
    found = []
    for file in _candidate_files(path):
        document = read_document(file, str(file.relative_to(path)))
        if document is not None and document.is_mapping():
            kind = document.mapping().get("kind")
            if kind is not None and kind.text() in HANDLED_KINDS:
                found.append(file)
    return found


def _candidate_files(path: Path) -> list[Path]:
    files = [path / "library.yaml"] if (path / "library.yaml").is_file() else []
    files += sorted((path / "regions").glob("*.yaml")) if (path / "regions").is_dir() else []
    for folder in sorted(p for p in path.iterdir() if p.is_dir() and p.name != "regions"):
        files += sorted(folder.glob("*.yaml"))
    return files


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.settings = Settings()
        self.texts = TextEntries(self.settings.source_locale)
        self.modules: dict[str, Module] = {}
        self.courses: dict[str, Course] = {}
        self.screenings: dict[str, Screening] = {}
        self.keyword_sets: list[KeywordSet] = []
        self.glossaries: list[Glossary] = []
        self.regions: dict[str, Region] = {}

    def read_all(self) -> None:
        if not self.root.is_dir():
            raise LoadError(f"{self.root}: content directory not found")
        if (self.root / "library.yaml").is_file():
            self._read_file(self.root / "library.yaml", None)
        for file in _candidate_files(self.root):
            if file.name == "library.yaml" and file.parent == self.root:
                continue
            folder = file.parent.name
            if folder != "regions" and not _LOCALE.match(folder):
                self.problems.append(
                    f"{file.relative_to(self.root)}: folder '{folder}' is not a locale code like 'sw' or 'pt-BR'"
                )
                continue
            self._read_file(file, None if folder == "regions" else folder)

    def _read_file(self, file: Path, locale: str | None) -> None:
        label = str(file.relative_to(self.root))
        try:
            document = read_document(file, label)
            if document is None:
                return
            top = document.mapping()
            if "kind" not in top:
                document.fail(
                    "missing 'kind' (messages, crisis, module, course, screening, keywords, glossary, region, library)"
                )
            kind = top["kind"].text()
            if kind not in HANDLED_KINDS:
                log.debug("skipping content file of another kind", extra={"file": label, "kind": kind})
                return
            at_root = file.parent == self.root
            misplaced = (
                (kind == "library" and not at_root)
                or (kind == "region" and (locale is not None or at_root))
                or (kind not in ("library", "region") and locale is None)
            )
            if misplaced:
                place = {"library": "the top of the content folder", "region": "regions/"}.get(kind, "a locale folder")
                top["kind"].fail(f"a '{kind}' file belongs in {place}")
            if kind == "library":
                self.settings = read_settings(document)
                self.texts.source_locale = self.settings.source_locale
            elif kind == "region":
                region = read_region(document, file.stem)
                if region.id in self.regions:
                    document.fail(f"region '{region.id}' is defined twice")
                self.regions[region.id] = region
            else:
                assert locale is not None
                getattr(self, f"_read_{kind}")(document, top, locale)
        except LoadError as exc:
            self.problems.extend(exc.problems)

    # -- shared pieces -------------------------------------------------------------------

    # -- kinds ---------------------------------------------------------------------------

    def _read_messages(self, document: Node, top: dict[str, Node], locale: str, kind: str = "message") -> None:
        document.mapping({"kind", "defaults", "messages"}, ("messages",))
        defaults_top = (
            top["defaults"].mapping(_TOP_COMMON - {"kind"} | {"source_version", "source_locale"})
            if "defaults" in top
            else {}
        )
        defaults = self.texts.defaults(defaults_top, locale)
        for message_id, node in top["messages"].mapping().items():
            self.texts.read(message_id, node, defaults, kind)

    def _read_crisis(self, document: Node, top: dict[str, Node], locale: str) -> None:
        self._read_messages(document, top, locale, kind="crisis")

    def _read_module(self, document: Node, top: dict[str, Node], locale: str) -> None:
        document.mapping(
            _TOP_COMMON | {"id", "menu", "choices", "title", "title_id", "steps"}, ("id", "status", "title", "steps")
        )
        module_id, defaults = self._structure_start(top, locale, self.modules, "module")
        title_id = top["title_id"].text() if "title_id" in top else f"module.{module_id}.title"
        self.texts.read(title_id, top["title"], defaults, source_locale=locale)
        steps = tuple(top["steps"].mapping())
        for step_id, node in top["steps"].mapping().items():
            self.texts.read(step_id, node, defaults, source_locale=locale)
        choices = tuple(_choice(n) for n in top["choices"].items()) if "choices" in top else ()
        self.modules[module_id] = Module(
            id=module_id,
            version=defaults.version,
            status=required_status(defaults, document),
            title_id=title_id,
            steps=steps,
            provenance=make_provenance(dict(defaults.provenance), document),
            source_locale=locale,
            menu_number=top["menu"].optional_integer() if "menu" in top else None,
            choices=choices,
            origin=document.origin,
        )

    def _read_course(self, document: Node, top: dict[str, Node], locale: str) -> None:
        document.mapping(
            _TOP_COMMON | {"id", "title", "title_id", "steps", "send_time", "repeat_every_days"},
            ("id", "status", "title", "steps"),
        )
        course_id, defaults = self._structure_start(top, locale, self.courses, "course")
        title_id = top["title_id"].text() if "title_id" in top else f"course.{course_id}.title"
        self.texts.read(title_id, top["title"], defaults, source_locale=locale)
        steps = []
        for message_id, node in top["steps"].mapping().items():
            extra = self.texts.read(message_id, node, defaults, extra=frozenset({"day"}), source_locale=locale)
            if "day" not in extra:
                node.fail(f"'{message_id}': missing 'day' (days after enrolment, 0 = same day)")
            steps.append(CourseStep(extra["day"].integer(), message_id))
        self.courses[course_id] = Course(
            id=course_id,
            version=defaults.version,
            status=required_status(defaults, document),
            title_id=title_id,
            steps=tuple(steps),
            provenance=make_provenance(dict(defaults.provenance), document),
            source_locale=locale,
            send_time=top["send_time"].text() if "send_time" in top else "09:00",
            repeat_every_days=top["repeat_every_days"].optional_integer() if "repeat_every_days" in top else None,
            origin=document.origin,
        )

    def _read_screening(self, document: Node, top: dict[str, Node], locale: str) -> None:
        singles = ("intro", "scale_help", "help")
        document.mapping(
            _TOP_COMMON | {"id", "name", "scale", "questions", "bands"} | set(singles) | {f"{s}_id" for s in singles},
            ("id", "status", "name", "scale", "questions", "bands", *singles),
        )
        sid, defaults = self._structure_start(top, locale, self.screenings, "screening")
        conventional = {"intro": "intro", "scale_help": "scale", "help": "help"}
        ids = {}
        for single in singles:
            ids[single] = (
                top[f"{single}_id"].text() if f"{single}_id" in top else f"screening.{sid}.{conventional[single]}"
            )
            self.texts.read(ids[single], top[single], defaults, source_locale=locale)
        scale = []
        for value_text, node in top["scale"].mapping().items():
            if not value_text.isdigit():
                node.fail(f"scale values are whole numbers, found '{value_text}'")
            first = node.items()[0] if node.is_sequence() else node
            label_id = f"screening.{sid}.answer.{value_text}"
            if first.is_mapping() and "label_id" in first.mapping():
                label_id = first.mapping()["label_id"].text()
            self.texts.read(label_id, node, defaults, extra=frozenset({"label_id"}), source_locale=locale)
            scale.append(ScaleOption(int(value_text), label_id))
        questions = []
        for qid, node in top["questions"].mapping().items():
            extra = self.texts.read(qid, node, defaults, extra=frozenset({"crisis_if_above"}), source_locale=locale)
            limit = extra["crisis_if_above"].optional_integer() if "crisis_if_above" in extra else None
            questions.append(Question(qid, limit))
        bands = []
        for bid, node in top["bands"].mapping().items():
            extra = self.texts.read(
                bid, node, defaults, extra=frozenset({"min", "max", "severity", "follow_up"}), source_locale=locale
            )
            for needed in ("min", "max", "severity"):
                if needed not in extra:
                    node.fail(f"band '{bid}': missing '{needed}'")
            follow_up = extra["follow_up"].optional_text() if "follow_up" in extra else None
            bands.append(Band(extra["min"].integer(), extra["max"].integer(), extra["severity"].text(), bid, follow_up))
        self.screenings[sid] = Screening(
            id=sid,
            version=defaults.version,
            status=required_status(defaults, document),
            name=top["name"].text(),
            intro_id=ids["intro"],
            scale_help_id=ids["scale_help"],
            help_id=ids["help"],
            questions=tuple(questions),
            scale=tuple(scale),
            bands=tuple(bands),
            provenance=make_provenance(dict(defaults.provenance), document),
            source_locale=locale,
            origin=document.origin,
        )

    def _read_keywords(self, document: Node, top: dict[str, Node], locale: str) -> None:
        document.mapping(_TOP_COMMON | {"actions"}, ("status", "provenance", "actions"))
        defaults = self.texts.defaults(top, locale)
        actions = tuple((action, node.texts()) for action, node in top["actions"].mapping().items())
        self.keyword_sets.append(
            KeywordSet(
                locale,
                defaults.version,
                required_status(defaults, document),
                actions,
                make_provenance(dict(defaults.provenance), document),
                document.origin,
            )
        )

    def _read_glossary(self, document: Node, top: dict[str, Node], locale: str) -> None:
        document.mapping(_TOP_COMMON | {"terms"}, ("status", "provenance", "terms"))
        defaults = self.texts.defaults(top, locale)
        terms = tuple((term, node.text()) for term, node in top["terms"].mapping().items())
        self.glossaries.append(
            Glossary(
                locale,
                defaults.version,
                required_status(defaults, document),
                terms,
                make_provenance(dict(defaults.provenance), document),
                document.origin,
            )
        )

    def _structure_start(self, top: dict[str, Node], locale: str, seen: dict, what: str) -> tuple[str, Defaults]:
        structure_id = top["id"].text()
        if not VALID_ID.match(structure_id):
            top["id"].fail(f"'{structure_id}' is not a valid id (lowercase letters, digits, _ and dots)")
        if structure_id in seen:
            top["id"].fail(f"{what} '{structure_id}' is already defined at {seen[structure_id].origin}")
        if "provenance" not in top:
            top["kind"].fail(f"{what} '{structure_id}' needs a 'provenance' block")
        return structure_id, self.texts.defaults(top, locale, source_locale=locale)

    # -- assembly ------------------------------------------------------------------------

    def library(self, require_sources: bool = True) -> Library:
        messages = self.texts.messages(self.problems, require_sources)
        if self.problems:
            raise LoadError(f"{len(self.problems)} problem(s) in {self.root}", self.problems)
        return Library(
            self.settings,
            tuple(messages),
            tuple(self.modules.values()),
            tuple(self.courses.values()),
            tuple(self.screenings.values()),
            tuple(self.keyword_sets),
            tuple(self.glossaries),
            tuple(self.regions.values()),
        ).canonical()


def _choice(node: Node) -> Choice:
    if not node.is_mapping():
        return Choice(node.text())
    fields_ = node.mapping({"action", "target", "reply"}, ("action",))
    return Choice(
        fields_["action"].text(),
        fields_["target"].text() if "target" in fields_ else None,
        fields_["reply"].text() if "reply" in fields_ else None,
    )
