"""Plain JSON data <-> frozen dataclasses, with every field's type checked on the way in.

Why one generic converter instead of a ``from_dict`` per record part: a results file comes from
disk, possibly edited, truncated or hostile, and every part of it must be checked the same way
(a string where a number belongs, a list where text belongs, ``1e309`` that parsed as infinity,
a negative time). The dataclass annotations already say what each field is; this module reads
them and refuses anything else with the path of the field (``records[3].energy.per_run_j``).

Numbers: ``int`` fields take whole numbers only; ``float`` fields take ints or floats, finite.
Fields whose name ends in a unit of an amount that cannot be negative (``_s``, ``_j``, ``_w``,
``_bytes``, ``_usd``, ``_per_s``) must be >= 0.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import cache
from typing import Any

MAX_SECONDS = 1e9  # 31.7 years: no step, warm-up or run aipcbench times is longer
MAX_MAGNITUDE = 1e30  # above any FLOP or byte count of a real run, far below float overflow
NON_NEGATIVE_SUFFIXES = ("_s", "_j", "_w", "_bytes", "_usd", "_per_s", "_kwh", "_per_run")


class RecordTypeError(ValueError):
    """A value does not have the type its field declares; the message starts with its path."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def to_plain(value: Any) -> Any:
    """A dataclass (nested) as JSON-ready dicts and lists; tuples become lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def from_plain(cls: type, data: Any, path: str = "") -> Any:
    """Build ``cls`` (a dataclass) from plain data, checking every field; raise RecordTypeError."""
    return _convert(cls, data, path or cls.__name__, "")


def _convert(annotation: Any, value: Any, path: str, name: str) -> Any:
    """Longer than 60 lines: one dispatch over the kinds of annotation; each branch is a few lines and only
    makes sense beside the others.
    """
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, path, name)
            except RecordTypeError as exc:
                errors.append(str(exc))
        raise RecordTypeError(errors[0] if len(errors) == 1 else f"{path}: unexpected {_what(value)}")
    if annotation is Any:
        return _plain_json(value, path)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise RecordTypeError(f"{path}: expected an object, got {_what(value)}")
        hints = _hints(annotation)
        known = {f.name: f for f in dataclasses.fields(annotation)}
        values = {}
        for field_name, field in known.items():
            if field_name in value:
                values[field_name] = _convert(
                    hints[field_name], value[field_name], f"{path}.{field_name}", field_name
                )
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise RecordTypeError(f"{path}.{field_name}: missing")
        try:
            return annotation(**values)
        except (ValueError, TypeError) as exc:  # a dataclass's own __post_init__ check
            raise RecordTypeError(f"{path}: {' '.join(str(exc).split())}") from None
    if origin is tuple:
        if not isinstance(value, list):
            raise RecordTypeError(f"{path}: expected a list, got {_what(value)}")
        args = typing.get_args(annotation)
        item = args[0]
        return tuple(_convert(item, v, f"{path}[{i}]", name) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordTypeError(f"{path}: expected an object, got {_what(value)}")
        _, item = typing.get_args(annotation)
        return {str(k): _convert(item, v, f"{path}.{k}", name) for k, v in value.items()}
    if annotation is bool:
        if not isinstance(value, bool):
            raise RecordTypeError(f"{path}: expected true or false, got {_what(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordTypeError(f"{path}: expected a whole number, got {_what(value)}")
        return _check_sign(value, path, name)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecordTypeError(f"{path}: expected a number, got {_what(value)}")
        if not math.isfinite(value):
            raise RecordTypeError(f"{path}: not a finite number")
        return _check_sign(float(value), path, name)
    if annotation is str:
        if not isinstance(value, str):
            raise RecordTypeError(f"{path}: expected text, got {_what(value)}")
        return value
    raise TypeError(f"{path}: unsupported annotation {annotation!r}")  # a bug in a record type


def _check_sign(value: float, path: str, name: str) -> Any:
    """Signs and ranges: a negative count or time is refused, and so is a finite but absurd
    figure (a run of 1e308 s) that would overflow arithmetic downstream (a machine count)."""
    if value < 0 and name.endswith(NON_NEGATIVE_SUFFIXES):
        raise RecordTypeError(f"{path}: must be >= 0, got {value:g}")
    if name.endswith("_s") and not name.endswith("_per_s") and value > MAX_SECONDS:
        raise RecordTypeError(f"{path}: {value:g} s is out of range (more than 30 years)")
    if abs(value) > MAX_MAGNITUDE:
        raise RecordTypeError(f"{path}: {value:g} is out of range (beyond 1e30)")
    return value


def _plain_json(value: Any, path: str, depth: int = 0) -> Any:
    """Free-form fields (a workload's own metrics): JSON scalars, lists and objects, finite."""
    if depth > 20:
        raise RecordTypeError(f"{path}: nested too deeply")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RecordTypeError(f"{path}: not a finite number")
        return value
    if isinstance(value, list):
        return [_plain_json(v, path, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain_json(v, path, depth + 1) for k, v in value.items()}
    raise RecordTypeError(f"{path}: unexpected {_what(value)}")


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
