"""Pickling of the user's variables without copying their large buffers.

``pickle.dumps``, dill and protocol 4 build a full in-memory copy of every array. Here every plain
numpy array (pandas blocks included) and every torch storage is written straight from its own
memory into the data file (``DataStore``); the pickle stream keeps only a reference. Views keep
pointing into their base, and tensors sharing a storage keep sharing it, so aliasing survives.
Non-contiguous arrays and GPU storages are copied in bounded chunks.

Memory stays bounded for object-heavy data too. pickle's memo keeps an entry for every object it
may meet again, so one pickle of a list of millions of records costs memory in proportion to their
count; here large containers (lists, tuples, dicts, sets, object arrays such as pandas string
columns) are pickled in parts of at most ``PART_BYTES``, each with a fresh memo, into the data file.
Objects the container's items share with anything else (their reference count says so:
``choose.shared_items``) are saved once per group and referred to elsewhere by a persistent id,
so they stay shared across parts and between variables after restore; everything else is shared
within a part through pickle's memo, as usual.

Code defined in the notebook travels by value, through cloudpickle (as Dask, Ray and PySpark ship
``__main__`` code): classes and their instances, functions and lambdas. Notebook functions are
rebuilt with the restoring namespace as their globals, so they see the kernel's variables as
functions defined in a cell do.
"""

from __future__ import annotations

import io
import pickle
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, Protocol

import cloudpickle
import numpy as np
import xxhash

# snapshots taken before these moved to ``buffers`` name them here
from .buffers import (  # noqa: F401
    StorageRef,
    _rebuild_array,
    _rebuild_arrow_buffer,
    _rebuild_storage,
    _rebuild_tensor,
    _rebuild_view,
    order,
    saved_by,
)
from .choose import shared_items
from .diskio import CHUNK, DirectWriter
from .load_context import current

PROTOCOL = 5
# A container with more items than this is pickled in parts, each with its own memo.
PART_ITEMS = 10_000
# A part is closed once its pickle passes this size: the memo and buffer a part costs stay small.
PART_BYTES = 4 << 20
BATCH = 512  # items pickled per step of a part


class Sink(Protocol):
    """Where a pickle stream goes: anything with ``write``."""

    def write(self, data: Any, /) -> Any: ...


class SnapshotCancelled(Exception):
    """A snapshot stopped on request (a cell started while it was written in the background)."""


class DataStore:
    """Where array data goes while pickling: appended to a ``DirectWriter`` and checksummed.

    Without a writer (``dry``) it only checksums: that is how an unchanged variable is recognised
    without writing it again.
    """

    def __init__(self, writer: DirectWriter | None, checksums: bool = True, checkpoint: Callable[[], None] | None = None):
        self.writer = writer
        self.checksums = checksums  # a dry run that only needs sizes skips reading the data
        self.entries: list[dict[str, Any]] = []
        # called between blocks: raises SnapshotCancelled to stop a background snapshot
        self.checkpoint = checkpoint or (lambda: None)

    def store(self, blocks: Iterable[Any], nbytes: int, **meta: Any) -> int:
        """Append the bytes of ``blocks`` (buffers, in order); returns the entry's index."""
        entry = {"offset": None, "nbytes": nbytes, "xxh3": None, **meta}
        if self.writer is not None or self.checksums:
            digest = xxhash.xxh3_128()
            if self.writer is not None:
                self.writer.align()
                entry["offset"] = self.writer.offset
            for block in blocks:
                view = memoryview(block).cast("B")
                for start in range(0, len(view), CHUNK):  # a cancel is seen within one chunk
                    self.checkpoint()
                    piece = view[start : start + CHUNK]
                    digest.update(piece)
                    if self.writer is not None:
                        self.writer.write(piece)
            entry["xxh3"] = digest.hexdigest()
        self.entries.append(entry)
        return len(self.entries) - 1

    def store_array(self, arr: np.ndarray, **meta: Any) -> int:
        return self.store(_c_order_blocks(arr), arr.nbytes, **meta)


def _c_order_blocks(arr: np.ndarray) -> Iterator[np.ndarray]:
    """The array's bytes in C order: its own memory where contiguous, else copies of at most CHUNK."""
    # viewed as bytes: the buffer protocol refuses some dtypes (datetime64) but uint8 never
    if arr.flags.c_contiguous:
        yield arr.reshape(-1).view(np.uint8)
        return
    if arr.ndim == 0 or arr.nbytes <= CHUNK:
        yield np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
        return
    for sub in arr:  # split along the first axis until each piece fits the bound
        yield from _c_order_blocks(sub)


class HashSink(io.RawIOBase):
    """A write-only file that keeps a checksum of the pickle stream and its length."""

    def __init__(self) -> None:
        self.digest = xxhash.xxh3_128()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        n = memoryview(data).nbytes
        self.size += n
        return n


class _Parts:
    """A large container, to be pickled in parts (see the module's docstring)."""

    def __init__(self, value: Any):
        self.value = value


class Sharing:
    """Objects saved once per group: ids found shared, and the key each got when first saved."""

    def __init__(self, ids: set[int]):
        self.ids = ids
        self.keys: dict[int, list[Any]] = {}  # id -> [key, defined]; the objects stay alive while pickled

    def persistent_id(self, obj: object) -> tuple[Any, ...] | None:
        """("def", key, obj) the first time (obj then pickled inline, once), ("ref", key) after."""
        if id(obj) not in self.ids:
            return None
        entry = self.keys.get(id(obj))
        if entry is None:
            self.keys[id(obj)] = [len(self.keys), False]
            return ("def", len(self.keys) - 1, obj)
        if not entry[1]:
            entry[1] = True  # the inline copy inside its own definition
            return None
        return ("ref", entry[0])


class GuardPickler(cloudpickle.Pickler):
    """Protocol 5 pickler: array and tensor data to a ``DataStore``, notebook code by value."""

    def __init__(
        self,
        file: Sink,
        store: DataStore,
        namespace: dict[str, Any] | None = None,
        storages: dict[tuple[Any, ...], StorageRef] | None = None,
        sharing: Sharing | None = None,
    ) -> None:
        super().__init__(file, protocol=PROTOCOL)
        self.store = store
        self.namespace = namespace  # the globals of the notebook's functions
        self.storages: dict[tuple[Any, ...], StorageRef] = {} if storages is None else storages  # shared by a group's parts
        self.sharing = sharing

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is _Parts:
            return self._reduce_parts(obj.value)
        if kind is types.FunctionType and obj.__globals__ is self.namespace and self.namespace is not None:
            return self._reduce_notebook_function(obj)
        buffers = saved_by(obj)
        if buffers is not None:
            return buffers.reduce(self, obj)  # arrays, tensors, Arrow buffers: their data from their memory
        return super().reducer_override(obj)  # cloudpickle: classes and functions of the notebook

    def _reduce_notebook_function(self, func: types.FunctionType) -> tuple[Any, ...]:
        """A function defined in the notebook: its code by value, its globals the restoring namespace."""
        return _rebuild_function, (
            func.__code__,
            func.__name__,
            func.__qualname__,
            func.__defaults__,
            func.__kwdefaults__,
            func.__closure__,
            func.__doc__,
            func.__annotations__,
            func.__dict__,
        )

    def _reduce_parts(self, value: Any) -> tuple[Any, ...]:
        """A large container as parts in the data file, each pickled with a fresh memo."""
        if isinstance(value, dict):
            kind, items = "dict", iter(value.items())
        elif isinstance(value, np.ndarray):
            kind, items = "ndarray", iter(value.reshape(-1, order=order(value)))
        else:
            kind, items = type(value).__name__, iter(value)
        parts = []
        while True:
            buffer = io.BytesIO()
            part = _pickler(buffer, self.store, self.namespace, self.storages, self.sharing)
            count = 0
            while buffer.tell() < PART_BYTES:
                batch = [item for _, item in zip(range(BATCH), items)]
                if not batch:
                    break
                self.store.checkpoint()
                part.dump(batch)
                count += len(batch)
            if count:
                parts.append(self.store.store([buffer.getbuffer()], buffer.tell(), kind="pickle-part", items=count))
            if count == 0 or buffer.tell() < PART_BYTES:
                break
        if kind == "ndarray":
            return _rebuild_object_array, (parts, value.shape, value.dtype, order(value))
        return _rebuild_container, (kind, parts)

    def reduce_object_array(self, arr: np.ndarray) -> Any:
        """An array of objects (a pandas string column): a large one in parts, a small one as pickle does."""
        return self._reduce_parts(arr) if arr.size > PART_ITEMS else NotImplemented


class _SharingPickler(GuardPickler):
    """A GuardPickler that also keeps shared objects shared across parts (a per-object call: only
    used where a group has such objects)."""

    def persistent_id(self, obj: object) -> tuple[Any, ...] | None:
        assert self.sharing is not None
        return self.sharing.persistent_id(obj)


def _pickler(
    file: Sink,
    store: DataStore,
    namespace: dict[str, Any] | None,
    storages: dict[tuple[Any, ...], StorageRef] | None,
    sharing: Sharing | None,
) -> GuardPickler:
    kind = _SharingPickler if sharing is not None and sharing.ids else GuardPickler
    return kind(file, store, namespace, storages, sharing)


# ---- loading ---------------------------------------------------------------------------------


def _read_parts(parts: list[int]) -> Iterator[Any]:
    """The items of a container pickled in parts, part after part (one part in memory at a time)."""
    ctx = current()
    for index in parts:
        data = ctx.read_entry(index, None, np.uint8)
        unpickler = ctx.unpickler(io.BytesIO(data.data))
        while True:
            try:
                batch = unpickler.load()
            except EOFError:
                break
            yield from batch
        del data, unpickler


def _rebuild_container(kind: str, parts: list[int]) -> Any:
    if kind == "dict":
        return dict(_read_parts(parts))
    if kind == "list":
        return list(_read_parts(parts))
    if kind == "tuple":
        return tuple(_read_parts(parts))
    if kind == "set":
        return set(_read_parts(parts))
    if kind == "frozenset":
        return frozenset(_read_parts(parts))
    raise pickle.UnpicklingError(f"unknown container kind in a snapshot: {kind}")


def _rebuild_object_array(parts: list[int], shape: tuple[int, ...], dtype: Any, layout: Literal["C", "F"]) -> np.ndarray:
    flat = np.empty(int(np.prod(shape)), dtype=dtype)
    for i, item in enumerate(_read_parts(parts)):
        flat[i] = item
    return flat.reshape(shape, order=layout)


def _rebuild_function(
    code: types.CodeType,
    name: str,
    qualname: str,
    defaults: tuple[Any, ...] | None,
    kwdefaults: dict[str, Any] | None,
    closure: tuple[Any, ...] | None,
    doc: str | None,
    annotations: dict[str, Any],
    attrs: dict[str, Any],
) -> types.FunctionType:
    func = types.FunctionType(code, current().namespace, name, defaults, closure)
    func.__qualname__, func.__kwdefaults__, func.__doc__ = qualname, kwdefaults, doc
    func.__annotations__ = annotations
    func.__dict__.update(attrs)
    func.__module__ = "__main__"
    return func


def _in_parts(value: Any, seen: dict[int, Any], depth: int = 2) -> Any:
    """``value``, with every large container in it (within ``depth`` small containers) pickled in parts.

    A small list, tuple or dict holding a large container (``{"train": [...], "test": [...]}``) is
    copied with ``_Parts`` in its place; ``seen`` keeps one stand-in per object, so what two names
    share stays shared.
    """
    kind = type(value)
    if kind not in (list, tuple, dict, set, frozenset):
        return value
    if id(value) in seen:
        return seen[id(value)]
    if len(value) > PART_ITEMS:
        return seen.setdefault(id(value), _Parts(value))
    if depth == 0 or kind in (set, frozenset):
        return value
    if kind is dict:
        inner = {key: _in_parts(item, seen, depth - 1) for key, item in value.items()}
        changed = any(inner[key] is not item for key, item in value.items())
    else:
        inner = kind(_in_parts(item, seen, depth - 1) for item in value)
        changed = any(a is not b for a, b in zip(inner, value))
    return seen.setdefault(id(value), inner if changed else value)


def dump(obj: dict[str, Any], stream: Sink, store: DataStore, namespace: dict[str, Any] | None = None) -> None:
    """Pickle a group of variables to ``stream``; array data and large containers go to ``store``."""
    seen: dict[int, Any] = {}
    variables = {name: _in_parts(value, seen) for name, value in obj.items()}
    shared: set[int] = set()
    for stand_in in seen.values():
        if type(stand_in) is _Parts:
            shared |= shared_items(stand_in.value)
    sharing = Sharing(shared) if shared else None
    _pickler(stream, store, namespace, None, sharing).dump(variables)
