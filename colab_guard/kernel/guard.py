"""The Guard: one per kernel, it owns the watcher and implements the user's commands."""

from __future__ import annotations

import os
import time
import types
from typing import Any

import psutil
from IPython.core.interactiveshell import InteractiveShell

from ..contract.heartbeat import pid_alive, read_heartbeat
from ..contract.manifests import Manifest, SnapshotError, list_snapshots, notebook_snapshots
from ..contract.ownership import probe_snapshot_dir
from ..contract.paths import default_snapshot_dir
from ..contract.settings import WatcherSettings
from ..readers.environment import detect_environment
from ..readers.memory import MemoryReader
from ..snapshot.choose import nbytes_of, user_variables
from ..snapshot.restore import RestoreResult, restore_snapshot
from ..snapshot.writer import SnapshotResult
from . import runtime
from .accelerators import read_gpus
from .cell_hooks import CellHooks
from .cell_stopping import CellStopper
from .cells import CellLog
from .display import GiB, notify
from .gpu_oom import explain, is_gpu_oom, kernels_by_pid
from .identity import Identity, resolve
from .meter import AcceleratorMeter
from .monitor import Monitor
from .notebook_files import NotebookFiles
from .watcher import Watcher

# A kernel that could not tell its notebook at load asks again in its first cells (Colab's server
# records a session once its kernel is up; a kernel loaded with --ext may ask too early).
IDENTITY_RETRIES = 2


class Guard:
    """One per kernel: composes the watcher, memory by cell, the cell hooks and stopper, the meter,
    and implements the user's commands (the magics call these)."""

    def __init__(
        self, shell: InteractiveShell, settings: WatcherSettings | None = None, identity: Identity | None = None
    ) -> None:
        self.shell = shell
        self.settings = settings or WatcherSettings.from_env()
        identity = identity or resolve(ask=False)
        self.identity = identity
        self._identity_tries = 0 if not identity.known else IDENTITY_RETRIES
        if self.settings.notebook is None:
            self.settings.notebook = identity.notebook
        # the one owner of where this notebook's files live (the watcher follows renames through it)
        self.files = NotebookFiles(self.settings.snapshot_dir or default_snapshot_dir(), self.settings)
        self.setup_notes: list[str] = []  # said in the notebook once the kernel is up
        self._check_remembered_dir()
        self.environment_kind = detect_environment()["kind"]
        self.greeting: str | None = None  # why the previous kernel of this notebook died, if it did
        self.cells = CellLog(self._working_set)
        self.stopper = CellStopper(lambda: self.watcher, self.largest, self._notify)
        self.watcher = Watcher(
            shell.user_ns,
            self.settings,
            self.snapshot_dir,
            hidden=getattr(shell, "user_ns_hidden", None),
            notify=self._notify,
            reader=MemoryReader(config_limit=self.settings.memory_limit),
            interrupt=self.stopper.interrupt,
            cells=self.cells,
            files=self.files,
        )
        self.meter = AcceleratorMeter(
            self.settings, lambda: self.snapshot_dir, lambda: self.watcher.cell_state, notify=self._notify
        )
        self.monitor: Monitor | None = None  # the %guard monitor line, while it runs
        self.hooks = CellHooks(shell, self.watcher, self.cells, self.stopper, self._learn_identity_again, self._after_cell)

    # what the magics, the hooks and the benchmarks reach through the Guard
    @property
    def suppressed(self) -> bool:
        return self.stopper.suppressed

    @suppressed.setter
    def suppressed(self, value: bool) -> None:
        self.stopper.suppressed = value

    @property
    def deliveries(self) -> list[float]:
        return self.stopper.deliveries

    @property
    def snapshot_dir(self) -> str:
        """Where this kernel's snapshots go (``files`` owns it)."""
        return self.files.snapshot_dir

    def _check_remembered_dir(self) -> None:
        """A snapshot dir remembered by ``%guard config`` that stopped working: back to the default, saying so."""
        if not self.settings.source("snapshot_dir").startswith("remembered") or not self.settings.snapshot_dir:
            return
        try:
            probe_snapshot_dir(self.settings.snapshot_dir)
        except ValueError as exc:
            self.settings.snapshot_dir = None
            self.settings.sources["snapshot_dir"] = "default (the remembered folder does not work)"
            self.files.move_to(default_snapshot_dir())
            self.setup_notes.append(
                f"{exc}. This kernel keeps its snapshots in {self.snapshot_dir} instead; "
                "`%guard config snapshot_dir=FOLDER` sets another."
            )

    def _working_set(self) -> int | None:
        """A fresh reading of the working set (for a cell's start and end)."""
        try:
            reading = self.watcher.reader.read()
        except (OSError, ValueError, KeyError):
            return None
        return reading.working_set

    def largest(self) -> list[tuple[str, int]]:
        sizes = []
        for name, value in list(user_variables(self.shell.user_ns, getattr(self.shell, "user_ns_hidden", None)).items()):
            if isinstance(value, (types.ModuleType, types.FunctionType, type)):
                continue  # code, not data: nothing to del
            size = nbytes_of(value)
            if size:
                sizes.append((name, size))
        return sorted(sizes, key=lambda item: -item[1])

    def _learn_identity_again(self) -> None:
        """At a cell's start, a few times: the notebook may have become known since (Colab)."""
        if self._identity_tries < IDENTITY_RETRIES:
            self._identity_tries += 1
            self.learn_identity()

    def _after_cell(self, error: object) -> None:
        """At a cell's end: a CUDA out-of-memory error is explained."""
        if isinstance(error, BaseException) and is_gpu_oom(error):
            self._notify("error", "GPU out of memory. " + self.explain_gpu_oom())

    def explain_gpu_oom(self) -> str:
        """Who holds the GPU memory, from NVML (or the configured recording) and kernels' heartbeats."""
        reading = read_gpus()
        own = {os.getpid(), *(c.pid for c in psutil.Process().children(recursive=True))}
        return explain(reading.gpus, own, kernels_by_pid(self.snapshot_dir, self.settings.shared_heartbeats))

    def _notify(self, level: str, message: str) -> None:
        notify(level, message)

    # -- which notebook this is
    def learn_identity(self) -> bool:
        """Ask again which notebook this kernel runs; adopt it (with this kernel's snapshots so far)."""
        found = resolve()
        if not found.known or found.notebook == self.files.notebook:
            return False
        self.identity, self._identity_tries = found, IDENTITY_RETRIES
        self.files.adopt(found.notebook)  # this kernel's snapshots so far are this notebook's
        greeting = self.previous_death()
        if greeting and greeting != self.greeting:
            self.greeting = greeting
            self._notify("warning", greeting)
        return True

    # -- settings from the notebook (%guard config)
    def configure(self, values: dict[str, Any]) -> list[str]:
        """Apply settings to this kernel now (validated together); returns the names changed."""
        new = self.settings.with_values(values)  # ValueError: nothing applied
        if "snapshot_dir" in values and new.snapshot_dir:
            probe_snapshot_dir(new.snapshot_dir)  # a folder that cannot hold snapshots is refused
        changed = [name for name in values if getattr(self.settings, name) != getattr(new, name)]
        for name in values:
            setattr(self.settings, name, getattr(new, name))
            self.settings.sources[name] = "this kernel (%guard config)"
        if "snapshot_dir" in changed:
            self.files.move_to(self.settings.snapshot_dir or default_snapshot_dir())
        if "memory_limit" in changed:
            self.watcher.reader.config_limit = self.settings.memory_limit
        return changed

    # -- the Python API (the magics call these)
    def snapshot_before_shutdown(self) -> None:
        """The server asked for a snapshot (SIGUSR1): its limit, or the hub's culler, ends this kernel
        soon. Where the hub is why, the running cell's output says so first."""
        state = runtime.server_state(self.settings, self.snapshot_dir)
        hub = next((w["message"] for w in state["warnings"] if w["kind"] == "hub-cull"), None) if state else None
        if hub:
            self._notify("warning", hub)
        self.watcher.snapshot("before the hub stops this server" if hub else "requested before shutdown")

    def snapshot(self) -> SnapshotResult:
        self.watcher.last = self.watcher.reader.read()
        result = self.watcher.snapshot(reason="manual")
        if result is None:
            raise SnapshotError(self.watcher.last_error or "snapshot failed")
        return result

    def restore(self, snapshot: str | None = None, names: list[str] | None = None, use_mmap: bool = False) -> RestoreResult:
        """Restore this notebook's newest snapshot, or the one named (of any notebook of this user's).

        A kernel that does not know its notebook never picks another notebook's snapshot by itself.
        """
        if snapshot is None and not self.identity.known:
            if not notebook_snapshots(self.snapshot_dir, self.files.notebook):
                raise SnapshotError(self.unknown_notebook_message())
        return restore_snapshot(self.shell.user_ns, self.snapshot_dir, self.files.notebook, snapshot, names, use_mmap)

    def unknown_notebook_message(self) -> str:
        """Why ``%guard restore`` without a name refuses here, and the snapshots to choose from."""
        why = self.identity.source
        lines = [
            f"this kernel does not know which notebook it runs ({why}), so colab-guard will not guess whose "
            "variables to load: name the snapshot, `%guard restore SNAPSHOT`."
        ]
        try:
            snaps = list_snapshots(self.snapshot_dir)
        except SnapshotError:
            snaps = []
        if snaps:
            lines.append("Snapshots of yours:")
            for snap in snaps[:20]:
                lines.append(
                    f"  {snap['id']}  {snap['created']}  {len(snap['variables'])} variables  {snap.get('notebook') or 'no notebook'}"
                )
        else:
            lines.append(f"There is no snapshot of yours in {self.snapshot_dir}.")
        return "\n".join(lines)

    def snapshots(self, every: bool = False) -> list[Manifest]:
        """This notebook's snapshots (or every notebook's), newest first."""
        if every:
            return list_snapshots(self.snapshot_dir)
        return notebook_snapshots(self.snapshot_dir, self.files.notebook)

    def status(self) -> dict[str, Any]:
        """Everything the kernel can know: see ``status.gather``."""
        from .status import gather

        return gather(self)

    def previous_death(self) -> str | None:
        """One line about the previous kernel of this notebook if it died near the limit."""
        beat = read_heartbeat(self.snapshot_dir, self.files.notebook)
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
        working_set, limit = beat.get("working_set"), beat.get("limit")
        if working_set and limit:
            line += f" at {working_set / GiB:.1f} of {limit / GiB:.1f} GiB"
        if snaps:
            snap = snaps[0]
            when = time.strftime("%H:%M", time.localtime(snap["created_ts"]))
            line += f"; snapshot from {when} with {len(snap['variables'])} variables: run `%guard restore` to get them back."
        else:
            line += "; no snapshot was taken."
        return line
