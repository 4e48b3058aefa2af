"""The heartbeat: a kernel's last memory reading, kept beside its notebook's snapshots.

The kernel rewrites it every few seconds; after a kill (even one that took the whole container)
the server and the next kernel read it to say what happened.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .paths import snapshot_root

HEARTBEAT = "heartbeat.json"


def heartbeat_path(snapshot_dir: str, notebook: str | None) -> str:
    """Where the kernel of a notebook keeps its heartbeat."""
    return os.path.join(snapshot_root(snapshot_dir, notebook), HEARTBEAT)


def read_heartbeat(snapshot_dir: str, notebook: str | None) -> dict[str, Any] | None:
    """The last heartbeat of a notebook's kernel, or None."""
    return read_heartbeat_file(heartbeat_path(snapshot_dir, notebook))


def read_heartbeat_file(path: str) -> dict[str, Any] | None:
    """One heartbeat file's content, or None where it is missing or unreadable."""
    try:
        with open(path) as f:
            beat = json.load(f)
    except (OSError, ValueError):
        return None
    return beat if isinstance(beat, dict) else None


def pid_alive(pid: object) -> bool:
    """Whether a process with this pid exists (it may belong to someone else)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
