"""Snapshots follow a renamed or moved notebook.

The server sees a rename through its session manager; it moves the notebook's complete snapshots
to the new notebook's folder and leaves ``renamed.json`` in the old one for the kernel still
running there, which then files its heartbeat and later snapshots under the new name.
"""

from __future__ import annotations

import os

from .files import parse_json, write_json_atomic
from .heartbeat import CELLS, HEARTBEAT
from .manifests import MANIFEST, read_manifest, snapshot_ids
from .ownership import SnapshotError, notebook_dir, read_private
from .paths import notebook_key, snapshot_root

RENAMED = "renamed.json"


def move_snapshots(snapshot_dir: str, old: str | None, new: str | None) -> int:
    """Move every complete snapshot of notebook ``old`` to notebook ``new``; returns how many moved."""
    if notebook_key(old) == notebook_key(new):
        return 0
    try:
        source = notebook_dir(snapshot_dir, old)  # this user's alone, as everything moved is
    except FileNotFoundError:
        return 0
    target = notebook_dir(snapshot_dir, new, create=True)
    moved = 0
    for snap in snapshot_ids(source):
        if not os.path.exists(os.path.join(target, snap)):
            os.rename(os.path.join(source, snap), os.path.join(target, snap))
            manifest = read_manifest(os.path.join(target, snap))
            manifest.pop("_path")
            manifest["notebook"], manifest["renamed_from"] = new, manifest.get("renamed_from") or old
            write_json_atomic(os.path.join(target, snap, MANIFEST), manifest)
            moved += 1
    return moved


def record_rename(snapshot_dir: str, old: str | None, new: str | None) -> int:
    """Move ``old``'s snapshots to ``new`` and tell a kernel still filing under ``old``."""
    moved = move_snapshots(snapshot_dir, old, new)
    try:
        source = notebook_dir(snapshot_dir, old)
    except FileNotFoundError:
        return moved
    write_json_atomic(os.path.join(source, RENAMED), {"notebook": new}, durable=False)
    return moved


def renamed_to(snapshot_dir: str, notebook: str | None) -> str | None:
    """The notebook's new name where the server recorded a rename, else None."""
    try:
        new = parse_json(read_private(os.path.join(snapshot_root(snapshot_dir, notebook), RENAMED), 1 << 16)).get("notebook")
    except (OSError, ValueError, AttributeError, SnapshotError):
        return None
    return new if isinstance(new, str) and new != notebook else None


def finish_rename(snapshot_dir: str, old: str | None, new: str | None) -> None:
    """The kernel's side: bring over snapshots written since, and leave no trace under the old name."""
    move_snapshots(snapshot_dir, old, new)
    source = snapshot_root(snapshot_dir, old)
    for name in (RENAMED, HEARTBEAT, CELLS):
        try:
            os.unlink(os.path.join(source, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(source)
    except OSError:
        pass  # not empty: something of the old name is left, and nothing is lost
