"""The Guard: one per kernel, it owns the watcher and implements the user's commands."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
import types

import psutil

from ..contract.heartbeat import pid_alive, read_heartbeat
from ..contract.manifests import SnapshotError, list_snapshots, notebook_snapshots
from ..contract.paths import default_snapshot_dir
from ..contract.settings import WatcherSettings
from ..readers.memory import MemoryReader, human_bytes
from ..snapshot.choose import nbytes_of, user_variables
from ..snapshot.restore import restore_snapshot
from .accelerators import accelerators, read_gpus
from .display import GiB, notify
from .gpu_oom import explain, is_gpu_oom, kernels_by_pid
from .interrupt import interrupt_thread
from .watcher import Watcher


class Guard:
    """One per kernel: owns the watcher and implements the user's commands."""

    def __init__(self, shell, settings: WatcherSettings | None = None):
        self.shell = shell
        self.settings = settings or WatcherSettings.from_env()
        self.snapshot_dir = self.settings.snapshot_dir or default_snapshot_dir()
        self.greeting: str | None = None  # why the previous kernel of this notebook died, if it did
        self.watcher = Watcher(
            shell.user_ns,
            self.settings,
            self.snapshot_dir,
            hidden=getattr(shell, "user_ns_hidden", None),
            notify=self._notify,
            reader=MemoryReader(config_limit=self.settings.memory_limit),
            interrupt=self._interrupt_cell,
        )
        self.executing: int | None = None  # the thread running a cell (between pre_run_cell and post_run_cell)
        self.suppressed = False  # inside %%guard off
        self.deliveries: list[float] = []

    # -- stopping a runaway cell
    def _interrupt_cell(self, reading) -> bool:
        """Called by the watcher past the critical level: stop the running cell, if there is one."""
        thread = self.executing
        if thread is None or self.suppressed:
            return False
        return interrupt_thread(thread, self.stop_message(reading))

    def stop_message(self, reading) -> str:
        snap = self.watcher.last_snapshot
        when = (
            f"a snapshot from {time.strftime('%H:%M', time.localtime(snap.manifest['created_ts']))} exists (`%guard restore`)"
            if snap
            else "no snapshot could be taken"
        )
        top = ", ".join(f"{name} ({human_bytes(size)})" for name, size in self.largest()[:5])
        return (
            f"memory at {reading.working_set / GiB:.2f} of {reading.limit / GiB:.2f} GiB "
            f"({reading.percent:.0f}%): colab-guard stopped this cell before the out-of-memory killer "
            f"could end the kernel; your variables are intact and {when}. Largest variables: {top or 'none'}. "
            "Free memory with `del NAME`, or run the cell under `%%guard off` to take the risk."
        )

    def largest(self) -> list[tuple[str, int]]:
        sizes = []
        for name, value in list(user_variables(self.shell.user_ns, getattr(self.shell, "user_ns_hidden", None)).items()):
            if isinstance(value, (types.ModuleType, types.FunctionType, type)):
                continue  # code, not data: nothing to del
            size = nbytes_of(value)
            if size:
                sizes.append((name, size))
        return sorted(sizes, key=lambda item: -item[1])

    def _pre_run(self, *args):
        # ipykernel may run cells off the main thread: interrupt the one that runs this cell
        self.executing = threading.get_ident()
        self.watcher.cell_state = {"executing": True, "idle_since": None}
        self.watcher.cell_started()

    def _post_run(self, result=None, *args):
        self.executing = None
        self.watcher.cell_state = {"executing": False, "idle_since": time.time()}
        self.watcher.cell_finished()
        error = getattr(result, "error_in_exec", None)
        if is_gpu_oom(error):
            self._notify("error", "GPU out of memory. " + self.explain_gpu_oom())

    def explain_gpu_oom(self) -> str:
        """Who holds the GPU memory, from NVML (or the configured recording) and kernels' heartbeats."""
        reading = read_gpus()
        own = {os.getpid(), *(c.pid for c in psutil.Process().children(recursive=True))}
        return explain(reading.gpus, own, kernels_by_pid(self.snapshot_dir, self.settings.shared_heartbeats))

    def _show_interrupt(self, shell, etype, value, tb, tb_offset=None):
        """One clear message instead of a traceback through the user's loop.

        The traceback's frames hold the stopped cell's temporaries (the runaway list), and IPython
        keeps the last traceback for %debug: clear them, or the memory is never given back.
        """
        self.deliveries.append(time.time())  # when the interruption reached the cell (benchmarks)
        traceback.clear_frames(tb)
        value.__traceback__ = None
        sys.last_traceback = None
        if hasattr(sys, "last_exc"):
            sys.last_exc = None
        self._notify("error", str(value))
        return None

    def _notify(self, level: str, message: str) -> None:
        notify(level, message)

    # -- the Python API (the magics call these)
    def snapshot(self):
        self.watcher.last = self.watcher.reader.read()
        result = self.watcher.snapshot(reason="manual")
        if result is None:
            raise SnapshotError(self.watcher.last_error or "snapshot failed")
        return result

    def restore(self, snapshot: str | None = None, names: list[str] | None = None, use_mmap: bool = False):
        return restore_snapshot(self.shell.user_ns, self.snapshot_dir, self.settings.notebook, snapshot, names, use_mmap)

    def snapshots(self, every: bool = False) -> list[dict]:
        """This notebook's snapshots (or every notebook's), newest first."""
        if every:
            return list_snapshots(self.snapshot_dir)
        return notebook_snapshots(self.snapshot_dir, self.settings.notebook)

    def status(self) -> dict:
        reading = self.watcher.reader.read()
        snaps = self.snapshots()
        return {
            "memory": reading.to_dict(),
            "watching": self.watcher.running,
            "warn_percent": self.settings.warn_percent,
            "snapshot_percent": self.settings.snapshot_percent,
            "snapshot_dir": self.snapshot_dir,
            "notebook": self.settings.notebook,
            "latest_snapshot": None if not snaps else {k: snaps[0][k] for k in ("id", "created", "variables", "skipped")},
            "accelerators": accelerators(),
        }

    def previous_death(self) -> str | None:
        """One line about the previous kernel of this notebook if it died near the limit."""
        beat = read_heartbeat(self.snapshot_dir, self.settings.notebook)
        if not beat or beat.get("clean_exit") or beat.get("pid") is None or pid_alive(beat["pid"]):
            return None
        try:
            snaps = self.snapshots()
        except SnapshotError:  # a folder that is not the user's alone: %guard list says which
            snaps = []
        cause = (
            "was killed, most likely by the out-of-memory killer,"
            if (beat.get("percent") or 0) >= self.settings.warn_percent
            else "died"
        )
        line = "The previous kernel of this notebook " + cause
        if beat.get("working_set") and beat.get("limit"):
            line += f" at {beat['working_set'] / GiB:.1f} of {beat['limit'] / GiB:.1f} GiB"
        if snaps:
            snap = snaps[0]
            when = time.strftime("%H:%M", time.localtime(snap["created_ts"]))
            line += f"; snapshot from {when} with {len(snap['variables'])} variables: run `%guard restore` to get them back."
        else:
            line += "; no snapshot was taken."
        return line
