"""Pickling of the user's variables without copying their large buffers.

``pickle.dumps``, dill and protocol 4 build a full in-memory copy of every array. Here every plain
numpy array (pandas blocks included) and every torch storage is written straight from its own
memory into the data file (``DataStore``); the pickle stream keeps only a reference. Views keep
pointing into their base, and tensors sharing a storage keep sharing it, so aliasing survives.
Non-contiguous arrays and GPU storages are copied in bounded chunks.
"""

from __future__ import annotations

import io
import pickle
import sys
import threading
from typing import Any

import numpy as np
import xxhash

from .diskio import CHUNK, DirectWriter

PROTOCOL = 5


class DataStore:
    """Where array data goes while pickling: appended to a ``DirectWriter`` and checksummed.

    Without a writer (``dry``) it only checksums: that is how an unchanged variable is recognised
    without writing it again.
    """

    def __init__(self, writer: DirectWriter | None, checksums: bool = True):
        self.writer = writer
        self.checksums = checksums  # a dry run that only needs sizes skips reading the data
        self.entries: list[dict] = []

    def store(self, blocks, nbytes: int, **meta) -> int:
        """Append the bytes of ``blocks`` (buffers, in order); returns the entry's index."""
        entry = {"offset": None, "nbytes": nbytes, "xxh3": None, **meta}
        if self.writer is not None or self.checksums:
            digest = xxhash.xxh3_128()
            if self.writer is not None:
                self.writer.align()
                entry["offset"] = self.writer.offset
            for block in blocks:
                digest.update(block)
                if self.writer is not None:
                    self.writer.write(block)
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


class GuardPickler(pickle.Pickler):
    """Protocol 5 pickler that routes array and tensor data to a ``DataStore``."""

    def __init__(self, file, store: DataStore):
        super().__init__(file, protocol=PROTOCOL)
        self.store = store
        self._storages: dict[tuple, _StorageRef] = {}

    def reducer_override(self, obj):
        if type(obj) is np.ndarray:
            return self._reduce_array(obj)
        torch = sys.modules.get("torch")
        if torch is not None:
            if isinstance(obj, torch.Tensor) and type(obj) in (torch.Tensor, torch.nn.Parameter):
                return self._reduce_tensor(obj, torch)
            if type(obj) is _StorageRef:
                return self._reduce_storage(obj, torch)
        return NotImplemented

    def _reduce_array(self, arr: np.ndarray):
        if arr.dtype.hasobject:
            return NotImplemented  # object arrays: their elements are pickled one by one
        root = arr
        while isinstance(root.base, np.ndarray) and type(root.base) is np.ndarray:
            root = root.base
        if root is not arr and (root.flags.c_contiguous or root.flags.f_contiguous) and not root.dtype.hasobject:
            # A view: rebuild it inside its base so the two still share memory after restore.
            offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            return _rebuild_view, (root, offset, arr.shape, arr.strides, arr.dtype, arr.flags.writeable)
        order = "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"
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


def _device_blocks(as_bytes):
    """A GPU storage's bytes copied to the host CHUNK bytes at a time, never all at once."""
    for start in range(0, as_bytes.numel(), CHUNK):
        yield as_bytes[start : start + CHUNK].cpu().numpy()


# ---- loading ---------------------------------------------------------------------------------

_context = threading.local()


class LoadContext:
    """Gives the rebuild functions their data while one group is being unpickled."""

    def __init__(self, read_entry, map_location: str | None = None):
        self.read_entry = read_entry  # (index, shape, dtype, order) -> ndarray
        self.map_location = map_location
        self.notes: list[str] = []

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


def dump(obj: Any, stream, store: DataStore) -> None:
    """Pickle ``obj`` to ``stream`` with its array data going to ``store``."""
    GuardPickler(stream, store).dump(obj)
