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
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, Literal

import cloudpickle
import numpy as np
import xxhash

from .choose import shared_items
from .diskio import CHUNK, DirectWriter

PROTOCOL = 5
# A container with more items than this is pickled in parts, each with its own memo.
PART_ITEMS = 10_000
# A part is closed once its pickle passes this size: the memo and buffer a part costs stay small.
PART_BYTES = 4 << 20
BATCH = 512  # items pickled per step of a part


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
        self.entries: list[dict] = []
        # called between blocks: raises SnapshotCancelled to stop a background snapshot
        self.checkpoint = checkpoint or (lambda: None)

    def store(self, blocks, nbytes: int, **meta) -> int:
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

    def store_array(self, arr: np.ndarray, **meta) -> int:
        return self.store(_c_order_blocks(arr), arr.nbytes, **meta)


def _c_order_blocks(arr: np.ndarray):
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

    def __init__(self):
        self.digest = xxhash.xxh3_128()
        self.size = 0

    def writable(self):
        return True

    def write(self, data):
        self.digest.update(data)
        n = memoryview(data).nbytes
        self.size += n
        return n


class _StorageRef:
    """One torch storage, shared by every tensor of the group that views it."""

    def __init__(self, storage):
        self.storage = storage


class _Parts:
    """A large container, to be pickled in parts (see the module's docstring)."""

    def __init__(self, value: Any):
        self.value = value


def _order(arr: np.ndarray) -> Literal["C", "F"]:
    """The order in which an array's memory is laid out: "F" only where it is Fortran-contiguous."""
    return "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"


class Sharing:
    """Objects saved once per group: ids found shared, and the key each got when first saved."""

    def __init__(self, ids: set[int]):
        self.ids = ids
        self.keys: dict[int, list] = {}  # id -> [key, defined]; the objects stay alive while pickled

    def persistent_id(self, obj):
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
        file,
        store: DataStore,
        namespace: dict | None = None,
        storages: dict | None = None,
        sharing: Sharing | None = None,
    ):
        super().__init__(file, protocol=PROTOCOL)
        self.store = store
        self.namespace = namespace  # the globals of the notebook's functions
        self._storages: dict[tuple, _StorageRef] = {} if storages is None else storages
        self.sharing = sharing

    def reducer_override(self, obj):
        kind = type(obj)
        if kind is np.ndarray:
            return self._reduce_array(obj)
        if kind is _Parts:
            return self._reduce_parts(obj.value)
        if kind is types.FunctionType and obj.__globals__ is self.namespace and self.namespace is not None:
            return self._reduce_notebook_function(obj)
        torch = sys.modules.get("torch")
        if torch is not None:
            if isinstance(obj, torch.Tensor) and kind in (torch.Tensor, torch.nn.Parameter):
                return self._reduce_tensor(obj, torch)
            if kind is _StorageRef:
                return self._reduce_storage(obj, torch)
        pyarrow = sys.modules.get("pyarrow")
        if pyarrow is not None and kind is pyarrow.Buffer:
            index = self.store.store([memoryview(obj)], obj.size, kind="arrow-buffer")
            return _rebuild_arrow_buffer, (index,)
        return super().reducer_override(obj)  # cloudpickle: classes and functions of the notebook

    def _reduce_notebook_function(self, func: types.FunctionType):
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

    def _reduce_parts(self, value: Any):
        """A large container as parts in the data file, each pickled with a fresh memo."""
        if isinstance(value, dict):
            kind, items = "dict", iter(value.items())
        elif isinstance(value, np.ndarray):
            kind, items = "ndarray", iter(value.reshape(-1, order=_order(value)))
        else:
            kind, items = type(value).__name__, iter(value)
        parts = []
        while True:
            buffer = io.BytesIO()
            part = _pickler(buffer, self.store, self.namespace, self._storages, self.sharing)
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
            return _rebuild_object_array, (parts, value.shape, value.dtype, _order(value))
        return _rebuild_container, (kind, parts)

    def _reduce_array(self, arr: np.ndarray):
        if arr.dtype.hasobject:
            # pandas string and object columns: their elements, pickled in parts
            return self._reduce_parts(arr) if arr.size > PART_ITEMS else NotImplemented
        root = arr
        while isinstance(root.base, np.ndarray) and type(root.base) is np.ndarray:
            root = root.base
        if root is not arr and (root.flags.c_contiguous or root.flags.f_contiguous) and not root.dtype.hasobject:
            # A view: rebuild it inside its base so the two still share memory after restore.
            offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            return _rebuild_view, (root, offset, arr.shape, arr.strides, arr.dtype, arr.flags.writeable)
        order = _order(arr)
        data = arr.T if order == "F" else arr  # an F-ordered array's memory is its transpose in C order
        index = self.store.store_array(data, kind="ndarray")
        return _rebuild_array, (index, arr.shape, arr.dtype, order, arr.flags.writeable)

    def _reduce_tensor(self, tensor, torch):
        if tensor.layout != torch.strided or tensor.is_quantized or getattr(tensor, "is_nested", False):
            return NotImplemented
        storage = tensor.untyped_storage()
        key = (storage.data_ptr(), storage.nbytes(), str(storage.device))
        ref = self._storages.get(key)
        if ref is None:
            ref = self._storages[key] = _StorageRef(storage)
        is_param = isinstance(tensor, torch.nn.Parameter)
        return _rebuild_tensor, (
            ref,
            str(tensor.dtype).removeprefix("torch."),
            tensor.storage_offset(),
            tuple(tensor.shape),
            tuple(tensor.stride()),
            tensor.requires_grad,
            is_param,
        )

    def _reduce_storage(self, ref: _StorageRef, torch):
        storage = ref.storage
        device = str(storage.device)
        as_bytes = torch.empty(0, dtype=torch.uint8, device=storage.device).set_(storage)
        if storage.device.type == "cpu":
            index = self.store.store_array(as_bytes.numpy(), kind="torch-storage", device=device)
        else:
            index = self.store.store(_device_blocks(as_bytes), as_bytes.numel(), kind="torch-storage", device=device)
        return _rebuild_storage, (index, device)


class _SharingPickler(GuardPickler):
    """A GuardPickler that also keeps shared objects shared across parts (a per-object call: only
    used where a group has such objects)."""

    def persistent_id(self, obj):
        assert self.sharing is not None
        return self.sharing.persistent_id(obj)


def _pickler(file, store: DataStore, namespace, storages, sharing: Sharing | None) -> GuardPickler:
    kind = _SharingPickler if sharing is not None and sharing.ids else GuardPickler
    return kind(file, store, namespace, storages, sharing)


def _device_blocks(as_bytes):
    """A GPU storage's bytes copied to the host CHUNK bytes at a time, never all at once."""
    for start in range(0, as_bytes.numel(), CHUNK):
        yield as_bytes[start : start + CHUNK].cpu().numpy()


# ---- loading ---------------------------------------------------------------------------------

_context = threading.local()


class LoadContext:
    """Gives the rebuild functions their data while one group is being unpickled."""

    def __init__(self, read_entry, map_location: str | None = None, namespace: dict | None = None):
        self.read_entry = read_entry  # (index, shape, dtype, order) -> ndarray
        self.map_location = map_location
        self.namespace = {} if namespace is None else namespace  # the globals of restored notebook functions
        self.notes: list[str] = []
        self.shared: dict[int, Any] = {}  # key -> object, for objects saved once per group

    def unpickler(self, file) -> pickle.Unpickler:
        """An unpickler of this group's streams, resolving its shared objects."""
        unpickler = pickle.Unpickler(file)
        unpickler.persistent_load = self.persistent_load  # type: ignore[method-assign]
        return unpickler

    def persistent_load(self, pid):
        """The other side of ``Sharing.persistent_id``."""
        if pid[0] == "def":
            self.shared[pid[1]] = pid[2]
            return pid[2]
        if pid[0] == "ref" and pid[1] in self.shared:
            return self.shared[pid[1]]
        raise pickle.UnpicklingError(f"unknown shared object in the snapshot: {pid[:2]!r}")

    def __enter__(self):
        _context.current = self
        return self

    def __exit__(self, *exc):
        _context.current = None


def _current() -> LoadContext:
    ctx = getattr(_context, "current", None)
    if ctx is None:
        raise pickle.UnpicklingError("colab-guard snapshot data can only be loaded through colab_guard.snapshot")
    return ctx


def _rebuild_array(index, shape, dtype, order, writeable=True):
    arr = _current().read_entry(index, shape[::-1] if order == "F" else shape, dtype)
    arr = arr.T if order == "F" else arr
    if not writeable:
        arr.flags.writeable = False
    return arr


def _rebuild_view(root, offset, shape, strides, dtype, writeable=True):
    flat = root.reshape(-1, order="A").view(np.uint8)
    view = np.ndarray(shape, dtype, buffer=flat, offset=offset, strides=strides)
    if not writeable:
        view.flags.writeable = False
    return view


def _rebuild_storage(index, device):
    import torch

    ctx = _current()
    data = ctx.read_entry(index, None, np.uint8)
    tensor = torch.from_numpy(data)
    target = ctx.map_location or device
    if target != "cpu":
        try:
            tensor = tensor.to(target)
        except (RuntimeError, AssertionError) as exc:  # no such device in this kernel
            ctx.notes.append(f"{device} tensors restored on the CPU ({exc})")
    return tensor.untyped_storage()


def _rebuild_tensor(storage, dtype_name, offset, shape, stride, requires_grad, is_param):
    import torch

    dtype = getattr(torch, dtype_name)
    tensor = torch.empty(0, dtype=dtype, device=storage.device).set_(storage, offset, shape, stride)
    if is_param:
        return torch.nn.Parameter(tensor, requires_grad=requires_grad)
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def _read_parts(parts: list[int]):
    """The items of a container pickled in parts, part after part (one part in memory at a time)."""
    ctx = _current()
    for index in parts:
        data = ctx.read_entry(index, None, np.uint8)
        unpickler = ctx.unpickler(io.BytesIO(memoryview(data)))
        while True:
            try:
                batch = unpickler.load()
            except EOFError:
                break
            yield from batch
        del data, unpickler


def _rebuild_container(kind: str, parts: list[int]):
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


def _rebuild_object_array(parts: list[int], shape, dtype, order: Literal["C", "F"]):
    flat = np.empty(int(np.prod(shape)), dtype=dtype)
    for i, item in enumerate(_read_parts(parts)):
        flat[i] = item
    return flat.reshape(shape, order=order)


def _rebuild_function(code, name, qualname, defaults, kwdefaults, closure, doc, annotations, attrs):
    func = types.FunctionType(code, _current().namespace, name, defaults, closure)
    func.__qualname__, func.__kwdefaults__, func.__doc__ = qualname, kwdefaults, doc
    func.__annotations__ = annotations
    func.__dict__.update(attrs)
    func.__module__ = "__main__"
    return func


def _rebuild_arrow_buffer(index: int):
    import pyarrow

    return pyarrow.py_buffer(_current().read_entry(index, None, np.uint8))


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


def dump(obj: dict[str, Any], stream, store: DataStore, namespace: dict | None = None) -> None:
    """Pickle a group of variables to ``stream``; array data and large containers go to ``store``."""
    seen: dict[int, Any] = {}
    variables = {name: _in_parts(value, seen) for name, value in obj.items()}
    shared: set[int] = set()
    for stand_in in seen.values():
        if type(stand_in) is _Parts:
            shared |= shared_items(stand_in.value)
    sharing = Sharing(shared) if shared else None
    _pickler(stream, store, namespace, None, sharing).dump(variables)
