"""Stopping a runaway cell: the watcher asks past the critical level, the running cell's thread
gets a ``MemoryLimitInterrupt``, and the user one clear message instead of a traceback."""

from __future__ import annotations

import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..contract.units import human_bytes
from ..readers.memory import MemoryReading
from .display import GiB
from .interrupt import interrupt_thread

if TYPE_CHECKING:
    from .watcher import Watcher


class CellStopper:
    """Stops the cell that runs (unless inside ``%%guard off``) and says why."""

    def __init__(
        self,
        watcher: Callable[[], Watcher],
        largest: Callable[[], list[tuple[str, int]]],
        notify: Callable[[str, str], None],
    ) -> None:
        self.watcher, self.largest, self.notify = watcher, largest, notify
        self.executing: int | None = None  # the thread running a cell (between pre_run_cell and post_run_cell)
        self.suppressed = False  # inside %%guard off
        self.deliveries: list[float] = []  # when each interruption reached the cell (benchmarks)

    def interrupt(self, reading: MemoryReading) -> bool:
        """Called by the watcher past the critical level: stop the running cell, if there is one."""
        thread = self.executing
        if thread is None or self.suppressed:
            return False
        return interrupt_thread(thread, self.message(reading))

    def message(self, reading: MemoryReading) -> str:
        """What the stopped cell's output says: why, what is safe, what to free."""
        watcher = self.watcher()
        snap = watcher.last_snapshot
        when = (
            f"a snapshot from {time.strftime('%H:%M', time.localtime(snap.manifest['created_ts']))} exists (`%guard restore`)"
            if snap
            else "no snapshot could be taken"
        )
        top = ", ".join(f"{name} ({human_bytes(size)})" for name, size in self.largest()[:5])
        blame = watcher.blame(reading.working_set)
        return (
            f"memory at {reading.working_set / GiB:.2f} of {reading.limit / GiB:.2f} GiB "
            f"({reading.percent:.0f}%): colab-guard stopped this cell before the out-of-memory killer "
            f"could end the kernel; your variables are intact and {when}. Largest variables: {top or 'none'}. "
            + (f"{blame} " if blame else "")
            + "Free memory with `del NAME`, or run the cell under `%%guard off` to take the risk."
        )

    def show(
        self,
        shell: object,
        etype: type,
        value: BaseException,
        tb: types.TracebackType | None,
        tb_offset: int | None = None,
    ) -> None:
        """One clear message instead of a traceback through the user's loop.

        The traceback's frames hold the stopped cell's temporaries (the runaway list), and IPython
        keeps the last traceback for %debug: clear them, or the memory is never given back.
        """
        self.deliveries.append(time.time())
        traceback.clear_frames(tb)
        value.__traceback__ = None
        sys.last_traceback = None
        if hasattr(sys, "last_exc"):
            sys.last_exc = None
        self.notify("error", str(value))
