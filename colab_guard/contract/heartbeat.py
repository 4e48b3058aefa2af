"""The heartbeat: a kernel's last memory reading, kept beside its notebook's snapshots.

The kernel rewrites it every few seconds; after a kill (even one that took the whole container)
the server and the next kernel read it to say what happened. Only the current user's own
heartbeats are trusted, unless an admin allows a shared read-only view (``shared_heartbeats``).
"""

from __future__ import annotations

import os
from typing import Any, TypedDict

from .files import parse_json
from .ownership import SnapshotError, check_private_dir, check_snapshot_dir, notebook_dir, private_dir, read_private
from .paths import snapshot_root, user_folder
from .typed_json import conforms

FORMAT = 1  # a newer kernel's heartbeat with a higher format is still read: fields only get added


class HeartbeatFields(TypedDict):
    """What every heartbeat holds: whose it is."""

    format: int
    pid: int


class Heartbeat(HeartbeatFields, total=False):
    """A heartbeat as written (with every field) and read (an older kernel's may lack some): the
    kernel's last word, and what a post-mortem needs."""

    time: float
    clean_exit: bool
    notebook: str | None
    working_set: int | None
    limit: int | None
    percent: float | None
    peak_percent: float
    oom_kills: int | None
    # where the server looks, after the kernel is gone, to see whether the OOM killer struck
    cgroup_path: str | None
    cgroup_version: str | None
    last_snapshot: str | None
    # for the GPU out-of-memory explanation of another kernel: is this one doing anything?
    executing: bool
    idle_since: float | None
    cells: list[dict[str, Any]]  # memory by cell, only where the heartbeat is not shared with other users


def decode_heartbeat(value: object) -> Heartbeat | None:
    """A heartbeat read from a file: the payload, where it is one (a kernel before the format was
    versioned wrote no ``format``: it counts as format 1), else None."""
    if isinstance(value, dict) and "format" not in value:
        value = {"format": FORMAT, **value}
    return value if conforms(value, Heartbeat) else None  # type: ignore[return-value]


HEARTBEAT = "heartbeat.json"
MAX_HEARTBEAT = 1 << 16  # bytes read at most: a heartbeat is a few hundred
# Memory by cell names each cell by its first line, which may hold a secret: where heartbeats are
# shared with other users, the cells go into this file beside it, the user's alone.
CELLS = "cells.json"


def heartbeat_path(snapshot_dir: str, notebook: str | None) -> str:
    """Where the kernel of a notebook keeps its heartbeat."""
    return os.path.join(snapshot_root(snapshot_dir, notebook), HEARTBEAT)


def read_heartbeat(snapshot_dir: str, notebook: str | None) -> Heartbeat | None:
    """The last heartbeat of a notebook's kernel, or None (also where it is not the user's own)."""
    try:
        root = notebook_dir(snapshot_dir, notebook)
    except (OSError, SnapshotError):
        return None
    return read_heartbeat_file(os.path.join(root, HEARTBEAT))


def cells_path(snapshot_dir: str, notebook: str | None) -> str:
    """Where a kernel whose heartbeat is shared keeps its memory by cell (private)."""
    return os.path.join(snapshot_root(snapshot_dir, notebook), CELLS)


def read_cells(snapshot_dir: str, notebook: str | None, beat: Heartbeat) -> list[Any] | None:
    """A kernel's memory by cell: in its heartbeat, or (shared heartbeats) in its private cells file."""
    cells = beat.get("cells")
    if cells is None:
        try:
            cells = parse_json(read_private(cells_path(snapshot_dir, notebook), MAX_HEARTBEAT)).get("cells")
        except (OSError, ValueError, AttributeError, SnapshotError):
            return None
    return cells if isinstance(cells, list) else None


def make_private(snapshot_dir: str, notebook: str | None) -> None:
    """Sharing was turned off: take back the read bits a shared heartbeat gave its folders and file."""
    folder = snapshot_root(snapshot_dir, notebook)
    for path in (os.path.dirname(folder), folder, os.path.join(folder, HEARTBEAT)):
        try:
            st = os.lstat(path)
            if st.st_uid == os.geteuid() and not os.path.islink(path) and st.st_mode & 0o077:
                os.chmod(path, st.st_mode & 0o700, follow_symlinks=False)
        except (OSError, NotImplementedError):
            continue


def read_heartbeat_file(path: str, owner: int | None = None) -> Heartbeat | None:
    """One heartbeat, or None where it is missing, unreadable, a link, not ``owner``'s (the euid's) or not a heartbeat."""
    try:
        return decode_heartbeat(parse_json(read_private(path, MAX_HEARTBEAT, owner)))
    except (OSError, ValueError, SnapshotError):
        return None


def own_heartbeats(snapshot_dir: str) -> list[Heartbeat]:
    """Every heartbeat in the current user's folder: the last word of each of their notebooks' kernels."""
    try:
        user = private_dir(snapshot_dir, user_folder())
    except (OSError, SnapshotError):
        return []
    return _heartbeats_in(user, os.geteuid())


def shared_heartbeats(snapshot_dir: str) -> list[tuple[int, Heartbeat]]:
    """(owner's uid, heartbeat) of every user's kernels, read-only: for a machine whose users share GPUs.

    A heartbeat counts only where it, its folder and its user's folder belong to the uid that
    user's folder is named after (``u<uid>-...``) and are writable by that user alone.
    """
    try:
        check_snapshot_dir(snapshot_dir)
        names = sorted(os.listdir(snapshot_dir))
    except (OSError, SnapshotError):
        return []
    out = []
    for name in names:
        path = os.path.join(snapshot_dir, name)
        try:
            uid = os.lstat(path).st_uid
            if name.split("-", 1)[0] != f"u{uid}":
                continue
            check_private_dir(path, uid)
        except (OSError, SnapshotError):
            continue
        out += [(uid, beat) for beat in _heartbeats_in(path, uid)]
    return out


def _heartbeats_in(user_dir: str, owner: int) -> list[Heartbeat]:
    try:
        keys = sorted(os.listdir(user_dir))
    except OSError:
        return []
    out = []
    for key in keys:
        folder = os.path.join(user_dir, key)
        try:
            check_private_dir(folder, owner)
        except (OSError, SnapshotError):
            continue
        beat = read_heartbeat_file(os.path.join(folder, HEARTBEAT), owner)
        if beat is not None:
            out.append(beat)
    return out


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
