"""The server's word to its kernels: policy, countdowns, cost and advice, in the user's folder.

A colab-guard server writes ``server-<id>.json`` into the user's folder of the snapshot dir at
every housekeeping tick and tells the kernels it starts its id (``COLAB_GUARD_SERVER``); a kernel
reads it for ``%guard status`` and ``%guard monitor``, which then show the same countdowns, cost
and advice as the panel. The file is the user's own (checked like every file colab-guard reads);
``time`` says how fresh it is, and the server removes it when it stops.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .files import parse_json, write_json_atomic
from .ownership import SnapshotError, private_dir, read_private
from .paths import user_folder

MAX_SERVER_STATE = 1 << 18
# Older than this, the file is the last word of a server that is gone (or stalled).
STALE_SECONDS = 30.0


def server_state_path(snapshot_dir: str, server_id: str) -> str:
    """Where server ``server_id`` writes its state for the kernels it started."""
    safe = "".join(c for c in server_id if c.isalnum() or c in "-_") or "server"
    return os.path.join(snapshot_dir, user_folder(), f"server-{safe}.json")


def write_server_state(snapshot_dir: str, server_id: str, payload: dict[str, Any]) -> None:
    """Replace the server's state file (atomic, not fsynced: it is rewritten every few seconds)."""
    private_dir(snapshot_dir, user_folder(), create=True)
    write_json_atomic(server_state_path(snapshot_dir, server_id), {**payload, "time": time.time()}, durable=False)


def read_server_state(snapshot_dir: str, server_id: str | None) -> dict[str, Any] | None:
    """The state server ``server_id`` last wrote, or None (none, unreadable, or not the user's own)."""
    if not server_id:
        return None
    try:
        private_dir(snapshot_dir, user_folder())
        state = parse_json(read_private(server_state_path(snapshot_dir, server_id), MAX_SERVER_STATE))
    except (OSError, ValueError, SnapshotError):
        return None
    return state if isinstance(state, dict) else None


def remove_server_state(snapshot_dir: str, server_id: str) -> None:
    """The server stops: its kernels must not read its countdowns any more."""
    try:
        os.unlink(server_state_path(snapshot_dir, server_id))
    except OSError:
        pass
