"""This kernel's heartbeat: its last memory reading, written beside its notebook's snapshots every
few seconds, so that a kernel (or a whole container) killed by the OOM killer leaves evidence of
what memory looked like just before (``contract.heartbeat`` defines it)."""

from __future__ import annotations

import os
import time
from typing import Any

from ..contract.files import write_json_atomic
from ..contract.heartbeat import FORMAT, Heartbeat, make_private
from ..contract.manifests import SnapshotError
from ..contract.ownership import notebook_dir
from ..readers.memory import MemoryReading
from .notebook_files import NotebookFiles


def heartbeat(
    reading: MemoryReading | None,
    notebook: str | None,
    peak_percent: float,
    last_snapshot: str | None,
    cell_state: dict[str, Any],
    clean: bool,
) -> Heartbeat:
    """The heartbeat of this kernel now (memory by cell is added where it is private)."""
    cgroup = None if reading is None else reading.cgroup
    return {
        "format": FORMAT,
        "pid": os.getpid(),
        "time": time.time(),
        "clean_exit": clean,
        "notebook": notebook,
        "working_set": None if reading is None else reading.working_set,
        "limit": None if reading is None else reading.limit,
        "percent": None if reading is None else reading.percent,
        "peak_percent": peak_percent,
        "oom_kills": None if cgroup is None else cgroup.get("oom_kills"),
        "cgroup_path": None if cgroup is None else cgroup.get("path"),
        "cgroup_version": None if cgroup is None else cgroup.get("version"),
        "last_snapshot": last_snapshot,
        "executing": cell_state.get("executing", False),
        "idle_since": cell_state.get("idle_since"),
    }


class HeartbeatWriter:
    """Writes the heartbeat: the user's alone, or (``shared_heartbeats``) readable by every user with
    memory by cell, whose first lines may hold secrets, in a private file beside it."""

    def __init__(self, files: NotebookFiles, shared: bool):
        self.files, self.shared = files, shared
        self._made_private = False  # the read bits of an earlier shared heartbeat taken back

    def write(self, beat: Heartbeat, cells: list[dict[str, Any]]) -> str | None:
        """Write it; the reason where it could not be written."""
        shared, files = self.shared, self.files
        if not shared:
            beat["cells"] = cells
        try:
            notebook_dir(files.snapshot_dir, files.notebook, create=True, mode=0o755 if shared else 0o700)
            if not shared and not self._made_private:
                make_private(files.snapshot_dir, files.notebook)  # shared by an earlier kernel
                self._made_private = True
            with files.lock:
                write_json_atomic(files.heartbeat_path, beat, durable=False, mode=0o644 if shared else 0o600)
                if shared:
                    write_json_atomic(files.cells_path, {"cells": cells}, durable=False)
        except (OSError, SnapshotError) as exc:
            return f"heartbeat: {exc}"
        return None
