"""Structuring and checking plain TOML data against attrs config classes.

Every problem is collected with its dotted path instead of stopping at the first, because a
user fixing a recipe wants the whole list at once. (cattrs' detailed validation gets close,
but cannot attach bounds errors raised by attrs validators to a field, nor suggest names.)
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Literal, get_args, get_origin

import attrs

from ganzoo.errors import Problem, accepted, did_you_mean

_MISSING = object()
# Floats in configs become tensors or torch scalars (float32): 1e300 would overflow there.
FLOAT32_MAX = 3.4028234663852886e38


def fields_of(cls: type) -> tuple[attrs.Attribute, ...]:
    try:
        attrs.resolve_types(cls)
    except Exception as exc:  # a plugin's config with annotations that do not resolve
        from ganzoo.errors import UserError, brief

        raise UserError(
            f"config class {cls.__module__}.{cls.__qualname__} is broken: its annotations "
            f"do not resolve ({brief(exc)})"
        ) from None
    return attrs.fields(cls)


def type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (list, tuple):
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} values ({', '.join(type_name(a) for a in args)})"
        return f"a list of {type_name(args[0]) if args else 'values'}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in get_args(tp))
    if attrs.has(tp):
        return "a table"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, path: str, problems: list[Problem]) -> Any:
    """Check ``value`` against the annotation ``tp``; returns the value or ``_MISSING``."""
    origin = get_origin(tp)
    got = _describe_value(value)
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if -(2**63) <= value < 2**63:  # TOML integers are 64-bit; tomllib does not check
                return value
            problems.append(Problem(path, f"expected an integer from -2**63 to 2**63-1, got {got}"))
            return _MISSING
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                problems.append(Problem(path, f"expected a number (integers: 64-bit), got {got}"))
                return _MISSING
            if math.isfinite(value) and abs(value) <= FLOAT32_MAX:
                return float(value)
            problems.append(
                Problem(path, f"expected a finite number within float32 (|x| <= 3.4e38), got {got}")
            )
            return _MISSING
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is Literal:
        if value in get_args(tp) and type(value) in {type(a) for a in get_args(tp)}:
            return value
        if isinstance(value, str):
            choices = [str(a) for a in get_args(tp)]
            problems.append(
                Problem(
                    path,
                    f"'{value}' is not accepted{did_you_mean(value, choices)}; "
                    f"accepted: {accepted(choices)}",
                )
            )
            return _MISSING
    elif origin in (list, tuple):
        if isinstance(value, list | tuple):
            args = get_args(tp)
            if origin is tuple and args and args[-1] is not Ellipsis:
                if len(value) != len(args):
                    problems.append(Problem(path, f"expected {type_name(tp)}, got {got}"))
                    return _MISSING
                item_types = list(args)
            else:
                item_types = [args[0] if args else Any] * len(value)
            out = [
                _convert(v, t, f"{path}[{i}]", problems)
                for i, (v, t) in enumerate(zip(value, item_types, strict=True))
            ]
            if any(v is _MISSING for v in out):
                return _MISSING
            return tuple(out) if origin is tuple else out
    elif origin in (typing.Union, types.UnionType):
        for arg in get_args(tp):
            trial: list[Problem] = []
            result = _convert(value, arg, path, trial)
            if not trial:
                return result
    elif attrs.has(tp):
        if isinstance(value, dict):
            return structure(tp, value, path, problems)
    else:  # an annotation this validator does not know: trust it
        return value
    problems.append(Problem(path, f"expected {type_name(tp)}, got {got}"))
    return _MISSING


def _describe_value(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list {value!r}" if len(repr(value)) < 60 else "a list"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _check_bounds(value: Any, field: attrs.Attribute, path: str, problems: list[Problem]) -> bool:
    """Declared bounds; for a list or tuple of numbers, bounds of each item."""
    if isinstance(value, list | tuple):
        results = [_check_bound(v, field, f"{path}[{i}]", problems) for i, v in enumerate(value)]
        return all(results)
    return _check_bound(value, field, path, problems)


def _check_bound(value: Any, field: attrs.Attribute, path: str, problems: list[Problem]) -> bool:
    meta = field.metadata
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return True
    checks = [
        ("ge", lambda v, b: v >= b, ">="),
        ("gt", lambda v, b: v > b, ">"),
        ("le", lambda v, b: v <= b, "<="),
        ("lt", lambda v, b: v < b, "<"),
    ]
    wanted = [(key, ok, sym) for key, ok, sym in checks if meta.get(key) is not None]
    if all(ok(value, meta[key]) for key, ok, _ in wanted):
        return True
    rule = " and ".join(f"{sym} {meta[key]:g}" for key, _, sym in wanted)
    problems.append(Problem(path, f"must be {rule}, got {value:g}"))
    return False


def structure(
    cls: type,
    data: dict[str, Any],
    path: str,
    problems: list[Problem],
    *,
    extra_allowed: tuple[str, ...] = (),
) -> Any:
    """Build ``cls`` from ``data``; append every problem found. Returns ``_MISSING`` on error."""
    fields = {f.name: f for f in fields_of(cls)}
    before = len(problems)
    for key in data:
        if key not in fields and key not in extra_allowed:
            problems.append(unknown_key(path, key, list(fields) + list(extra_allowed)))
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in data:
            if field.default is attrs.NOTHING:
                problems.append(Problem(join(path, name), f"required ({type_name(field.type)})"))
            continue
        value = _convert(data[name], field.type, join(path, name), problems)
        if value is not _MISSING and _check_bounds(value, field, join(path, name), problems):
            kwargs[name] = value
    if len(problems) > before:
        return _MISSING
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # cross-field checks done by the class itself
        problems.append(Problem(path, str(exc)))
        return _MISSING
    except Exception as exc:  # a (plugin) config class that fails in its own checks
        problems.append(
            Problem(path, f"{cls.__qualname__} rejected these values ({type(exc).__name__}: {exc})")
        )
        return _MISSING


def unknown_key(path: str, key: str, allowed: list[str]) -> Problem:
    return Problem(
        join(path, key),
        f"unknown key{did_you_mean(key, allowed)}; accepted here: {accepted(allowed)}",
    )


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def is_missing(value: Any) -> bool:
    return value is _MISSING


def to_plain(value: Any) -> Any:
    """attrs instances, tuples and paths as TOML-writable plain values."""
    if attrs.has(type(value)):
        return {f.name: to_plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def describe_parameters(cls: type) -> list[dict[str, Any]]:
    """Name, type, default, bounds and help of every parameter, for ``ganzoo describe``."""
    rows = []
    for field in fields_of(cls):
        if isinstance(field.type, type) and attrs.has(field.type):  # a nested table
            for row in describe_parameters(field.type):
                rows.append({**row, "name": f"{field.name}.{row['name']}"})
            continue
        if field.default is attrs.NOTHING:
            default: Any = "(required)"
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            default = to_plain(field.default.factory())
        else:
            default = to_plain(field.default)
        bounds = {k: field.metadata.get(k) for k in ("ge", "gt", "le", "lt")}
        rows.append(
            {
                "name": field.name,
                "type": type_name(field.type),
                "default": default,
                "bounds": {k: v for k, v in bounds.items() if v is not None},
                "help": field.metadata.get("help", ""),
            }
        )
    return rows
