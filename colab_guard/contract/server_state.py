"""The server's word to its kernels: policy, countdowns, cost and advice, in the user's folder.

A colab-guard server writes ``server-<id>.json`` into the user's folder of the snapshot dir at
every housekeeping tick and tells the kernels it starts its id (``COLAB_GUARD_SERVER``); a kernel
reads it for ``%guard status`` and ``%guard monitor``, which then show the same countdowns, cost
and advice as the panel. The file is the user's own (checked like every file colab-guard reads);
``time`` says how fresh it is, and the server removes it when it stops.
"""

from __future__ import annotations

import os
from typing import Any, TypedDict

from .files import parse_json, write_json_atomic
from .ownership import SnapshotError, private_dir, read_private
from .paths import user_folder
from .typed_json import conforms

FORMAT = 1


class KernelCountdown(TypedDict):
    """One kernel's countdown to culling, as the panel shows it (times in ``contract.times``' form)."""

    cull_at: str | None
    seconds_to_cull: float | None
    cull_reason: str | None


class Advice(TypedDict):
    """One warning or piece of advice (low GPU utilisation, accelerator hours, the hub's culler)."""

    kind: str
    message: str


class ServerStateFields(TypedDict):
    """What the server writes for its kernels: the sessions payload's parts a kernel shows (their
    one definition is the Sessions schema of ``server/openapi.yaml``; the tests check them against it)."""

    format: int
    pid: int
    time: float  # when written: older than STALE_SECONDS is a server gone or stalled
    environment: dict[str, Any]  # the sampler's environment (``readers.environment``)
    server: dict[str, Any]  # the sessions payload's server view: started, countdowns, the hub's clock
    policy: dict[str, Any]  # each policy setting's value and source
    kernels: dict[str, KernelCountdown]  # by kernel id
    cost: dict[str, Any] | None
    warnings: list[Advice]
    accelerator_hours: dict[str, Any] | None
    now: str | None


class ServerState(ServerStateFields, total=False):
    """The state as a kernel reads it: with its age, in seconds, added by the reader."""

    age: float


MAX_SERVER_STATE = 1 << 18
# Older than this, the file is the last word of a server that is gone (or stalled).
STALE_SECONDS = 30.0


def server_state_path(snapshot_dir: str, server_id: str) -> str:
    """Where server ``server_id`` writes its state for the kernels it started."""
    safe = "".join(c for c in server_id if c.isalnum() or c in "-_") or "server"
    return os.path.join(snapshot_dir, user_folder(), f"server-{safe}.json")


def write_server_state(snapshot_dir: str, server_id: str, state: ServerStateFields) -> None:
    """Replace the server's state file (atomic, not fsynced: it is rewritten every few seconds)."""
    private_dir(snapshot_dir, user_folder(), create=True)
    write_json_atomic(server_state_path(snapshot_dir, server_id), state, durable=False)


def decode_server_state(value: object) -> ServerState | None:
    """A server state read from its file, where it is one."""
    return value if conforms(value, ServerStateFields) else None  # type: ignore[return-value]


def read_server_state(snapshot_dir: str, server_id: str | None) -> ServerState | None:
    """The state server ``server_id`` last wrote, or None (none, unreadable, not the user's own, or not a state)."""
    if not server_id:
        return None
    try:
        private_dir(snapshot_dir, user_folder())
        state = parse_json(read_private(server_state_path(snapshot_dir, server_id), MAX_SERVER_STATE))
    except (OSError, ValueError, SnapshotError):
        return None
    return decode_server_state(state)


def remove_server_state(snapshot_dir: str, server_id: str) -> None:
    """The server stops: its kernels must not read its countdowns any more."""
    try:
        os.unlink(server_state_path(snapshot_dir, server_id))
    except OSError:
        pass
