"""Objects whose data is a buffer of memory: numpy arrays, torch tensors, Arrow buffers.

The one place that knows, for each library, how its objects hold their data: which memory they
view (so that variables sharing it are saved together and still share it after restore), how many
bytes they hold, whether checksumming them is cheap, how the pickler writes their data straight
from their own memory into the data file, and how a snapshot rebuilds them. A library that is not
imported in the kernel is never imported here. A new library is one more ``BufferKind``.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Protocol

import numpy as np

from .diskio import CHUNK
from .load_context import current


class BufferKind(Protocol):
    """How one library's objects hold their data."""

    def saves(self, obj: object, kind: type) -> bool:
        """Whether the pickler writes ``obj`` (of exactly type ``kind``) from its memory."""
        ...

    def reduce(self, pickler: Any, obj: Any) -> Any:
        """``obj``'s reduction, its data stored through ``pickler.store``; NotImplemented for pickle's own."""
        ...

    def holds(self, value: object) -> bool:
        """Whether ``value`` is one of this library's objects with data."""
        ...

    def memory_keys(self, value: Any) -> set[object]:
        """Keys of the memory ``value`` views: two variables sharing a key share memory."""
        ...

    def nbytes(self, value: Any) -> int | None:
        """The bytes of data ``value`` holds."""
        ...

    def cheap_to_fingerprint(self, value: Any) -> bool:
        """Whether checksumming ``value`` costs little next to writing it."""
        ...


def order(arr: np.ndarray) -> Literal["C", "F"]:
    """The order in which an array's memory is laid out: "F" only where it is Fortran-contiguous."""
    return "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"


class NumpyArrays:
    """numpy arrays (pandas' blocks are numpy arrays): views are rebuilt inside their base."""

    def saves(self, obj: object, kind: type) -> bool:
        return kind is np.ndarray

    def reduce(self, pickler: Any, arr: np.ndarray) -> Any:
        if arr.dtype.hasobject:
            # pandas string and object columns: their elements, pickled in parts
            return pickler.reduce_object_array(arr)
        root = arr
        while isinstance(root.base, np.ndarray) and type(root.base) is np.ndarray:
            root = root.base
        if root is not arr and (root.flags.c_contiguous or root.flags.f_contiguous) and not root.dtype.hasobject:
            # A view: rebuild it inside its base so the two still share memory after restore.
            offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            return _rebuild_view, (root, offset, arr.shape, arr.strides, arr.dtype, arr.flags.writeable)
        layout = order(arr)
        data = arr.T if layout == "F" else arr  # an F-ordered array's memory is its transpose in C order
        index = pickler.store.store_array(data, kind="ndarray")
        return _rebuild_array, (index, arr.shape, arr.dtype, layout, arr.flags.writeable)

    def holds(self, value: object) -> bool:
        return isinstance(value, np.ndarray)

    def memory_keys(self, value: np.ndarray) -> set[object]:
        root = value
        while isinstance(root.base, np.ndarray):
            root = root.base
        return {id(root)}

    def nbytes(self, value: np.ndarray) -> int | None:
        return int(value.nbytes)

    def cheap_to_fingerprint(self, value: np.ndarray) -> bool:
        return not value.dtype.hasobject


class StorageRef:
    """One torch storage, shared by every tensor of the group that views it."""

    def __init__(self, storage: Any):
        self.storage = storage


class TorchTensors:
    """torch tensors, parameters and their storages: tensors sharing a storage keep sharing it."""

    def saves(self, obj: object, kind: type) -> bool:
        if kind is StorageRef:
            return True
        torch = sys.modules.get("torch")
        return torch is not None and kind in (torch.Tensor, torch.nn.Parameter)

    def reduce(self, pickler: Any, obj: Any) -> Any:
        torch = sys.modules["torch"]
        if type(obj) is StorageRef:
            return self._reduce_storage(pickler, obj, torch)
        if obj.layout != torch.strided or obj.is_quantized or getattr(obj, "is_nested", False):
            return NotImplemented
        storage = obj.untyped_storage()
        key = (storage.data_ptr(), storage.nbytes(), str(storage.device))
        ref = pickler.storages.get(key)
        if ref is None:
            ref = pickler.storages[key] = StorageRef(storage)
        is_param = isinstance(obj, torch.nn.Parameter)
        return _rebuild_tensor, (
            ref,
            str(obj.dtype).removeprefix("torch."),
            obj.storage_offset(),
            tuple(obj.shape),
            tuple(obj.stride()),
            obj.requires_grad,
            is_param,
        )

    @staticmethod
    def _reduce_storage(pickler: Any, ref: StorageRef, torch: Any) -> Any:
        storage = ref.storage
        device = str(storage.device)
        as_bytes = torch.empty(0, dtype=torch.uint8, device=storage.device).set_(storage)
        if storage.device.type == "cpu":
            index = pickler.store.store_array(as_bytes.numpy(), kind="torch-storage", device=device)
        else:
            index = pickler.store.store(_device_blocks(as_bytes), as_bytes.numel(), kind="torch-storage", device=device)
        return _rebuild_storage, (index, device)

    def holds(self, value: object) -> bool:
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(value, (torch.Tensor, torch.nn.Module))

    def memory_keys(self, value: Any) -> set[object]:
        torch = sys.modules["torch"]
        if isinstance(value, torch.Tensor) and value.layout == torch.strided:
            return {("storage", value.untyped_storage().data_ptr())}
        return set()

    def nbytes(self, value: Any) -> int | None:
        torch = sys.modules["torch"]
        if isinstance(value, torch.Tensor):
            return int(value.element_size() * value.nelement())
        return None  # a module: measured as any other object

    def cheap_to_fingerprint(self, value: Any) -> bool:
        return True


class ArrowBuffers:
    """pyarrow buffers (the memory under Arrow arrays and tables)."""

    def saves(self, obj: object, kind: type) -> bool:
        pyarrow = sys.modules.get("pyarrow")
        return pyarrow is not None and kind is pyarrow.Buffer

    def reduce(self, pickler: Any, obj: Any) -> Any:
        index = pickler.store.store([memoryview(obj)], obj.size, kind="arrow-buffer")
        return _rebuild_arrow_buffer, (index,)

    def holds(self, value: object) -> bool:
        pyarrow = sys.modules.get("pyarrow")
        return pyarrow is not None and isinstance(value, pyarrow.Buffer)

    def memory_keys(self, value: Any) -> set[object]:
        return {("arrow", value.address)}

    def nbytes(self, value: Any) -> int | None:
        return int(value.size)

    def cheap_to_fingerprint(self, value: Any) -> bool:
        return True


KINDS: tuple[BufferKind, ...] = (NumpyArrays(), TorchTensors(), ArrowBuffers())
# Each type's kind, found once: asked for every object pickled and every item measured, it must be
# cheap (a type of torch or pyarrow exists only once they are imported: no answer goes stale).
_SAVED_BY_TYPE: dict[type, BufferKind | None] = {}
_KIND_OF_TYPE: dict[type, BufferKind | None] = {}


def saved_by(obj: object) -> BufferKind | None:
    """The kind whose pickler reduction writes ``obj`` from its memory, if any."""
    kind = type(obj)
    try:
        return _SAVED_BY_TYPE[kind]
    except KeyError:
        found = _SAVED_BY_TYPE[kind] = next((k for k in KINDS if k.saves(obj, kind)), None)
        return found


def kind_of(value: object) -> BufferKind | None:
    """The kind of ``value``'s library, where it is an object with a buffer of data."""
    kind = type(value)
    try:
        return _KIND_OF_TYPE[kind]
    except KeyError:
        found = _KIND_OF_TYPE[kind] = next((k for k in KINDS if k.holds(value)), None)
        return found


def _device_blocks(as_bytes: Any) -> Any:
    """A GPU storage's bytes copied to the host CHUNK bytes at a time, never all at once."""
    for start in range(0, as_bytes.numel(), CHUNK):
        yield as_bytes[start : start + CHUNK].cpu().numpy()


# ---- rebuilding (named in the pickles: keep these names) -------------------------------------


def _rebuild_array(index: int, shape: tuple[int, ...], dtype: Any, order: str, writeable: bool = True) -> np.ndarray:
    arr = current().read_entry(index, shape[::-1] if order == "F" else shape, dtype)
    arr = arr.T if order == "F" else arr
    if not writeable:
        arr.flags.writeable = False
    return arr


def _rebuild_view(
    root: np.ndarray, offset: int, shape: tuple[int, ...], strides: tuple[int, ...], dtype: Any, writeable: bool = True
) -> np.ndarray:
    flat = root.reshape(-1, order="A").view(np.uint8)
    view: np.ndarray = np.ndarray(shape, dtype, buffer=flat, offset=offset, strides=strides)
    if not writeable:
        view.flags.writeable = False
    return view


def _rebuild_storage(index: int, device: str) -> Any:
    import torch

    ctx = current()
    data = ctx.read_entry(index, None, np.uint8)
    tensor = torch.from_numpy(data)
    target = ctx.map_location or device
    if target != "cpu":
        try:
            tensor = tensor.to(target)
        except (RuntimeError, AssertionError) as exc:  # no such device in this kernel
            ctx.notes.append(f"{device} tensors restored on the CPU ({exc})")
    return tensor.untyped_storage()


def _rebuild_tensor(
    storage: Any,
    dtype_name: str,
    offset: int,
    shape: tuple[int, ...],
    stride: tuple[int, ...],
    requires_grad: bool,
    is_param: bool,
) -> Any:
    import torch

    dtype = getattr(torch, dtype_name)
    tensor = torch.empty(0, dtype=dtype, device=storage.device).set_(storage, offset, shape, stride)
    if is_param:
        return torch.nn.Parameter(tensor, requires_grad=requires_grad)
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def _rebuild_arrow_buffer(index: int) -> Any:
    import pyarrow

    return pyarrow.py_buffer(current().read_entry(index, None, np.uint8))
