"""Typed access to YAML nodes that remembers file and line, for errors editors can act on.

PyYAML's plain ``safe_load`` loses positions and silently turns ``NO`` into ``False``
(YAML 1.1), which would break the reply keyword "NO". Working on
composed nodes keeps the line of every value and the text exactly as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import yaml

from content.errors import LoadError

_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"


class Node:
    """One YAML node plus the label of the file it came from."""

    def __init__(self, node: yaml.Node, where: str, key_line: int | None = None) -> None:
        self.node = node
        self.where = where
        self.key_line = key_line

    @property
    def line(self) -> int:
        """1-based line where the value starts."""
        return self.node.start_mark.line + 1

    @property
    def origin(self) -> str:
        """``file:line``, the way editors and CI logs point at a place."""
        return f"{self.where}:{self.line}"

    @property
    def entry_origin(self) -> str:
        """``file:line`` of the key this value belongs to (where an editor looks for an entry)."""
        return f"{self.where}:{self.key_line or self.line}"

    def fail(self, message: str) -> NoReturn:
        """Stop reading this file with a located message."""
        raise LoadError(f"{self.origin}: {message}")

    def is_null(self) -> bool:
        """True for ``~``, ``null`` or an empty value."""
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == _NULL

    def is_mapping(self) -> bool:
        """True for a ``key: value`` block."""
        return isinstance(self.node, yaml.MappingNode)

    def is_sequence(self) -> bool:
        """True for a list."""
        return isinstance(self.node, yaml.SequenceNode)

    def mapping(self, allowed: set[str] | None = None, required: tuple[str, ...] = ()) -> dict[str, Node]:
        """Keys to nodes, in file order; unknown, missing and repeated keys are errors."""
        if not isinstance(self.node, yaml.MappingNode):
            self.fail("expected a block of 'key: value' lines here")
        result: dict[str, Node] = {}
        for key_node, value_node in self.node.value:
            key = Node(key_node, self.where)
            name = key.text()
            if name in result:
                key.fail(f"'{name}' appears twice; keep one")
            if allowed is not None and name not in allowed:
                key.fail(f"unknown field '{name}' (expected one of: {', '.join(sorted(allowed))})")
            result[name] = Node(value_node, self.where, key.line)
        for name in required:
            if name not in result:
                self.fail(f"missing field '{name}'")
        return result

    def items(self) -> list[Node]:
        """A list's entries; a single scalar is not silently accepted as a list."""
        if not isinstance(self.node, yaml.SequenceNode):
            self.fail("expected a list ('- item' lines or [a, b]) here")
        return [Node(child, self.where) for child in self.node.value]

    def text(self) -> str:
        """The scalar exactly as written (so NO stays "NO" and 007 stays "007")."""
        if not isinstance(self.node, yaml.ScalarNode):
            self.fail("expected a single value here, not a block or list")
        return str(self.node.value)

    def optional_text(self) -> str | None:
        """Text, or None for an empty value."""
        return None if self.is_null() else self.text()

    def integer(self) -> int:
        """A whole number."""
        if not (isinstance(self.node, yaml.ScalarNode) and self.node.tag == _INT):
            self.fail(f"expected a whole number, found {self._shown()}")
        return int(self.node.value.replace("_", ""), 0)

    def optional_integer(self) -> int | None:
        """A whole number, or None for an empty value."""
        return None if self.is_null() else self.integer()

    def boolean(self) -> bool:
        """true or false."""
        if not (isinstance(self.node, yaml.ScalarNode) and self.node.tag == _BOOL):
            self.fail(f"expected true or false, found {self._shown()}")
        return self.node.value.lower() in ("true", "yes", "on", "y")

    def texts(self) -> tuple[str, ...]:
        """A list of texts, or one text taken as a list of one."""
        if isinstance(self.node, yaml.ScalarNode):
            return () if self.is_null() else (self.text(),)
        return tuple(item.text() for item in self.items())

    def _shown(self) -> str:
        value = getattr(self.node, "value", "")
        return repr(value) if isinstance(value, str) else "a block"


def read_document(path: Path, label: str) -> Node | None:
    """Compose one YAML file; None for an empty file. Syntax errors name the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{label}: not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise LoadError(f"{label}:{line}: YAML syntax error: {exc.problem or exc}") from exc
    return None if node is None else Node(node, label)
