"""Schema objects to and from plain data (dicts, lists, strings, numbers).

Used for the structure column of spreadsheets and ready for JSON columns in the database:
the conversion is driven by the dataclass type hints, so new fields need no extra code.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


class PlainDataError(ValueError):
    """Plain data does not fit the expected shape; the message says where."""


def to_plain(obj: Any, exclude: frozenset[str] = frozenset({"origin"})) -> Any:
    """Dataclasses become dicts (without ``exclude`` fields), tuples lists, enums their values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_plain(getattr(obj, f.name), frozenset({"origin"}))
            for f in dataclasses.fields(obj)
            if f.name not in exclude
        }
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (tuple, list)):
        return [to_plain(x) for x in obj]
    return obj


def from_plain(cls: type[T], data: Any, where: str = "") -> T:
    """Build ``cls`` from plain data, checking every field against its type hint."""
    return _convert(cls, data, where or cls.__name__)  # type: ignore[no-any-return]


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _convert(option, value, where)
            except PlainDataError as exc:
                errors.append(str(exc))
        raise PlainDataError(errors[0] if errors else f"{where}: unexpected value {value!r}")
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list):
            raise PlainDataError(f"{where}: expected a list, found {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise PlainDataError(f"{where}: expected {len(args)} values, found {len(value)}")
        return tuple(_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint, value, where)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in hint)
            raise PlainDataError(f"{where}: {value!r} is not one of {allowed}") from None
    if hint is bool:
        if not isinstance(value, bool):
            raise PlainDataError(f"{where}: expected true or false, found {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PlainDataError(f"{where}: expected a whole number, found {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise PlainDataError(f"{where}: expected text, found {value!r}")
        return value
    raise PlainDataError(f"{where}: unsupported type {hint!r}")


def _dataclass(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise PlainDataError(f"{where}: expected an object with fields, found {value!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - names)
    if unknown:
        raise PlainDataError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in value:
            kwargs[f.name] = _convert(hints[f.name], value[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise PlainDataError(f"{where}: missing field '{f.name}'")
    return cls(**kwargs)
