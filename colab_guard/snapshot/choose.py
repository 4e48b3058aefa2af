"""Choosing what a snapshot saves: the user's variables, grouped so shared objects stay shared."""

from __future__ import annotations

import itertools
import sys
import types
from collections.abc import Iterable
from typing import Any

import numpy as np

from .buffers import kind_of

# Containers up to this size are looked into when finding variables that share objects.
ALIAS_SCAN_LIMIT = 1000
# Larger containers are measured from a sample of this many items (and as many of their newest).
SAMPLE_ABOVE = 100_000
SAMPLE_SIZE = 1000


def user_variables(namespace: dict[str, Any], hidden: dict[str, Any] | None = None) -> dict[str, Any]:
    """What ``%who`` lists: the user's names, not IPython's own or underscore-prefixed ones."""
    hidden = hidden or {}
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("_")
        and not (name in hidden and hidden[name] is value)
        and name not in ("In", "Out", "exit", "quit", "get_ipython")
    }


def skip_reason(value: object) -> str | None:
    """Why a value cannot be saved usefully, decided without trying to pickle it."""
    if isinstance(value, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        return "a generator or coroutine: its running state cannot be saved"
    if isinstance(value, (types.BuiltinFunctionType, types.MethodType)):
        return None
    if hasattr(value, "fileno") and hasattr(value, "close"):
        return "an open file, socket or connection: reopen it after restoring"
    return None


# Held by the container's slot, the scanning loop and getrefcount's own argument: more is shared.
_SCAN_REFS = 3


def shared_items(value: object) -> set[int]:
    """Ids of the objects (dicts, lists, sets, instances) a large container holds that something else
    holds too: another variable, another container, or the same container twice.

    The reference count tells it without a table of every item (a record list of millions would
    cost as much memory as it saves); an item counted once too often (a loop variable left bound
    to it) is only saved once more carefully.
    """
    if isinstance(value, dict):
        items: Iterable[object] = value.values()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return set()
    out = set()
    for item in items:
        if sys.getrefcount(item) > _SCAN_REFS and (
            isinstance(item, (dict, list, set)) or (hasattr(item, "__dict__") and not isinstance(item, _CODE))
        ):
            out.add(id(item))
    return out


_CODE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def _identity_keys(value: object, depth: int = 2) -> set[object]:
    """Ids of the objects a variable holds, to group variables that share any of them."""
    keys: set[object] = {id(value)}
    buffers = kind_of(value)
    if buffers is not None:
        keys |= buffers.memory_keys(value)
    if depth > 0:
        items: Iterable[object] = ()
        if isinstance(value, (list, tuple, set, frozenset)) and len(value) <= ALIAS_SCAN_LIMIT:
            items = value
        elif isinstance(value, dict) and len(value) <= ALIAS_SCAN_LIMIT:
            items = value.values()
        elif hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType)):
            attrs = getattr(value, "__dict__", None)
            if isinstance(attrs, dict) and len(attrs) <= ALIAS_SCAN_LIMIT:
                items = attrs.values()
        for item in items:
            if not isinstance(item, (int, float, str, bytes, bool, type(None))):
                keys |= _identity_keys(item, depth - 1)
    if isinstance(value, (list, tuple, set, frozenset, dict)) and len(value) > ALIAS_SCAN_LIMIT:
        keys |= shared_items(value)  # too large to look into whole: what its items share with others
    return keys


def group_variables(variables: dict[str, Any]) -> list[list[str]]:
    """Partition names so variables sharing any object (a view and its base...) stay together."""
    owner: dict[object, str] = {}
    parent = {name: name for name in variables}

    def find(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for name, value in variables.items():
        for key in _identity_keys(value):
            if key in owner:
                parent[find(name)] = find(owner[key])
            else:
                owner[key] = name
    groups: dict[str, list[str]] = {}
    for name in variables:
        groups.setdefault(find(name), []).append(name)
    return sorted((sorted(names) for names in groups.values()), key=lambda names: names[0])


def cheap_to_fingerprint(value: object, depth: int = 1) -> bool:
    """Whether checksumming a value costs little next to writing it: its bytes are array data, not objects."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, types.FunctionType, type)):
        return True
    buffers = kind_of(value)
    if buffers is not None:
        return buffers.cheap_to_fingerprint(value)
    dtypes = getattr(value, "dtypes", None)  # a pandas DataFrame, or a Series through dtype
    if dtypes is not None and hasattr(dtypes, "__iter__"):
        return all(getattr(dtype, "kind", "O") != "O" for dtype in dtypes)
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "index"):
        return getattr(dtype, "kind", "O") != "O"
    if depth > 0 and isinstance(value, (list, tuple, set, frozenset)) and len(value) <= ALIAS_SCAN_LIMIT:
        return all(cheap_to_fingerprint(item, depth - 1) for item in value)
    if depth > 0 and isinstance(value, dict) and len(value) <= ALIAS_SCAN_LIMIT:
        return all(cheap_to_fingerprint(item, depth - 1) for item in value.values())
    return False


def describe(value: object) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    kind = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    if shape is not None:
        return f"{kind} {dtype} {tuple(shape)}" if dtype is not None else f"{kind} {tuple(shape)}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"{kind} of {len(value)}"
    return kind


def nbytes_of(value: object, depth: int = 1) -> int | None:
    """Memory a variable holds: arrays and tensors by their data, containers with what they hold.

    Containers of more than 100,000 items are measured from a sample spread over their items, plus
    their newest items exactly: a container that grows (a running cell appending arrays to a list
    or dict of small items) holds most of its bytes where a spread sample would miss them.
    """
    if depth > 0 and isinstance(value, (list, tuple, set, frozenset, dict)) and value:
        items = value.values() if isinstance(value, dict) else value
        if len(value) <= SAMPLE_ABOVE:
            return sys.getsizeof(value) + sum(nbytes_of(item, depth - 1) or 0 for item in items)
        ordered = isinstance(value, (list, tuple, dict))  # the newest items are the last ones
        older = len(value) - SAMPLE_SIZE if ordered else len(value)
        step = older // SAMPLE_SIZE
        if isinstance(value, (list, tuple)):
            sample = [value[i] for i in range(0, older, step)]
            newest = list(value[older:])
        else:
            sample = list(itertools.islice(items, 0, older, step))
            newest = list(itertools.islice(reversed(value.values()), SAMPLE_SIZE)) if isinstance(value, dict) else []
        average = sum(nbytes_of(item, depth - 1) or 0 for item in sample) / len(sample)
        exact = sum(nbytes_of(item, depth - 1) or 0 for item in newest)
        return sys.getsizeof(value) + int(average * older) + exact
    buffers = kind_of(value)
    held = None if buffers is None else buffers.nbytes(value)
    if held is not None:
        return held
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, (int, np.integer)):
        return int(nbytes)
    memory_usage = getattr(value, "memory_usage", None)  # pandas
    if callable(memory_usage):
        try:
            usage = memory_usage(deep=False)
            return int(usage.sum() if hasattr(usage, "sum") else usage)
        except Exception:  # noqa: BLE001
            return None
    try:
        return sys.getsizeof(value)
    except TypeError:
        return None
