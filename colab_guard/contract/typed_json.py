"""Checking JSON read from a file against the TypedDict that defines its payload.

Each payload that crosses between the two processes (the heartbeat, the manifest, the server's
state) is a TypedDict in ``contract/``; what a file holds is used only where every field it has
is of its declared type. Fields the definition does not know are kept (a newer writer's), missing
ones are allowed where the definition says so (its ``total=False`` part), never where it requires them.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

NoneType = type(None)


@functools.cache
def _hints(payload: type) -> dict[str, Any]:
    return get_type_hints(payload)


def fits(value: object, hint: Any) -> bool:
    """Whether a JSON value is of the type ``hint`` (int counts as float, as JSON does not tell them apart)."""
    if hint is Any:
        return True
    if hint is NoneType or hint is None:
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(fits(value, arm) for arm in get_args(hint))
    if origin is list:
        (item,) = get_args(hint) or (Any,)
        return isinstance(value, list) and all(fits(v, item) for v in value)
    if origin is dict:
        key, item = get_args(hint) or (str, Any)
        return isinstance(value, dict) and all(fits(k, key) and fits(v, item) for k, v in value.items())
    if isinstance(hint, type) and hasattr(hint, "__annotations__") and hasattr(hint, "__total__"):
        return conforms(value, hint)
    if hint in (list, dict):
        return isinstance(value, hint)
    raise TypeError(f"no JSON check for {hint!r}")


def misfits(value: object, payload: type) -> list[str]:
    """The fields of ``payload`` (a TypedDict) that ``value`` lacks or has of another type."""
    if not isinstance(value, dict):
        return ["(not a JSON object)"]
    required: frozenset[str] = getattr(payload, "__required_keys__", frozenset())
    return [
        name
        for name, hint in _hints(payload).items()
        if (name in required and name not in value) or (name in value and not fits(value[name], hint))
    ]


def conforms(value: object, payload: type) -> bool:
    """Whether ``value`` is a JSON object that ``payload`` (a TypedDict) describes."""
    return not misfits(value, payload)


def field_names(payload: type) -> set[str]:
    """Every field a payload defines."""
    return set(_hints(payload))
