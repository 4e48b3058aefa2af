"""Snapshot manifests: finding, reading, summarising and deleting complete snapshots.

Layout under the snapshot dir (owner-only permissions)::

    <notebook key>/<snapshot id>/manifest.json   what is in it: variables, sizes, checksums, skipped
    <notebook key>/<snapshot id>/gNNN.pkl        one pickle stream per group of aliased variables
    <notebook key>/<snapshot id>/gNNN.dat        that group's array data, 4 KiB aligned
    <notebook key>/.tmp-<id>-<pid>/               a snapshot being written; renamed when complete

A snapshot is complete only once renamed, so a crash at any point leaves the previous ones intact.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from .paths import snapshot_root

Manifest = dict[str, Any]  # manifest.json as read, with "_path" added

FORMAT = 1
MANIFEST = "manifest.json"


class SnapshotError(Exception):
    """A snapshot that cannot be taken or restored, with the reason for the user."""


def snapshot_ids(root: str) -> list[str]:
    """Complete snapshots in one notebook's folder, oldest first."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if not n.startswith(".") and os.path.isfile(os.path.join(root, n, MANIFEST)))


def read_manifest(path: str) -> Manifest:
    """The manifest of the snapshot at ``path``, with ``_path`` added."""
    with open(os.path.join(path, MANIFEST)) as f:
        manifest: Manifest = json.load(f)
    manifest["_path"] = path
    return manifest


def latest_manifest(snapshot_dir: str, notebook: str | None) -> Manifest | None:
    """The newest complete snapshot of a notebook, or None."""
    root = snapshot_root(snapshot_dir, notebook)
    ids = snapshot_ids(root)
    return read_manifest(os.path.join(root, ids[-1])) if ids else None


def list_snapshots(snapshot_dir: str, notebook: str | None = None) -> list[Manifest]:
    """Manifests of every complete snapshot (of one notebook, or all), newest first."""
    if notebook is not None:
        return notebook_snapshots(snapshot_dir, notebook)
    names = os.listdir(snapshot_dir) if os.path.isdir(snapshot_dir) else []
    return _manifests([os.path.join(snapshot_dir, d) for d in names])


def notebook_snapshots(snapshot_dir: str, notebook: str | None) -> list[Manifest]:
    """Manifests of one notebook's complete snapshots (``None``: a kernel with no notebook), newest first."""
    return _manifests([snapshot_root(snapshot_dir, notebook)])


def _manifests(roots: list[str]) -> list[Manifest]:
    out = []
    for root in roots:
        for snap in snapshot_ids(root):
            try:
                out.append(read_manifest(os.path.join(root, snap)))
            except (OSError, ValueError):
                continue
    return sorted(out, key=lambda m: m["created_ts"], reverse=True)


def snapshot_summary(manifest: Manifest) -> dict[str, Any]:
    """What the server shows of a snapshot: no checksums or group layout."""
    path = manifest["_path"]
    return {
        "id": manifest["id"],
        "key": os.path.basename(os.path.dirname(path)),
        "notebook": manifest.get("notebook"),
        "created": manifest["created"],
        "created_ts": manifest["created_ts"],
        "reason": manifest.get("reason"),
        "size": sum(g["stream_size"] + g["data_size"] for g in manifest["groups"].values()),
        "variables": {name: info["type"] for name, info in manifest["variables"].items()},
        "modules": manifest.get("modules", {}),
        "skipped": manifest.get("skipped", {}),
        "restore": f"%guard restore {manifest['id']}",
    }


def delete_snapshot(snapshot_dir: str, notebook_dir: str, snapshot: str) -> None:
    """Delete one snapshot, named by its notebook key and id; nothing outside the snapshot dir."""
    base = os.path.realpath(snapshot_dir)
    for part in (notebook_dir, snapshot):
        if not part or part in (".", "..") or "/" in part or "\\" in part or part.startswith(".") or "\0" in part:
            raise SnapshotError(f"invalid snapshot name: {part!r}")
    target = os.path.join(base, notebook_dir, snapshot)
    if os.path.islink(target) or os.path.islink(os.path.join(base, notebook_dir)):
        raise SnapshotError("invalid snapshot name: a symbolic link")
    real = os.path.realpath(target)
    if os.path.dirname(os.path.dirname(real)) != base or not os.path.isfile(os.path.join(real, MANIFEST)):
        raise FileNotFoundError(f"no snapshot {notebook_dir}/{snapshot}")
    shutil.rmtree(real)


def latest_summary(snapshot_dir: str, notebook: str | None) -> dict[str, Any] | None:
    """The summary of a notebook's newest snapshot, or None."""
    manifest = latest_manifest(snapshot_dir, notebook)
    return None if manifest is None else snapshot_summary(manifest)
