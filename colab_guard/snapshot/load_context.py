"""What the rebuild functions of a snapshot's pickles read while one group is being unpickled."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import IO, Any

import numpy as np

_context = threading.local()


class LoadContext:
    """Gives the rebuild functions their data while one group is being unpickled."""

    def __init__(
        self, read_entry: Callable[..., np.ndarray], map_location: str | None = None, namespace: dict[str, Any] | None = None
    ) -> None:
        self.read_entry = read_entry  # (index, shape, dtype, order) -> ndarray
        self.map_location = map_location
        self.namespace = {} if namespace is None else namespace  # the globals of restored notebook functions
        self.notes: list[str] = []
        self.shared: dict[int, Any] = {}  # key -> object, for objects saved once per group

    def unpickler(self, file: IO[bytes]) -> pickle.Unpickler:
        """An unpickler of this group's streams, resolving its shared objects."""
        unpickler = pickle.Unpickler(file)
        unpickler.persistent_load = self.persistent_load  # type: ignore[method-assign]
        return unpickler

    def persistent_load(self, pid: tuple[Any, ...]) -> Any:
        """The other side of ``pickling.Sharing.persistent_id``."""
        if pid[0] == "def":
            self.shared[pid[1]] = pid[2]
            return pid[2]
        if pid[0] == "ref" and pid[1] in self.shared:
            return self.shared[pid[1]]
        raise pickle.UnpicklingError(f"unknown shared object in the snapshot: {pid[:2]!r}")

    def __enter__(self) -> LoadContext:
        _context.current = self
        return self

    def __exit__(self, *exc: object) -> None:
        _context.current = None


def current() -> LoadContext:
    """The context of the group being unpickled on this thread."""
    ctx: LoadContext | None = getattr(_context, "current", None)
    if ctx is None:
        raise pickle.UnpicklingError("colab-guard snapshot data can only be loaded through colab_guard.snapshot")
    return ctx
