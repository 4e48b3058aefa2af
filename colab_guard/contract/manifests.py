"""Snapshot manifests: finding, reading, summarising and deleting complete snapshots.

Layout under the current user's folder of the snapshot dir (``paths.user_root``; owner-only
permissions, checked by ``ownership`` before anything is read)::

    <notebook key>/<snapshot id>/manifest.json   what is in it: variables, sizes, checksums, skipped
    <notebook key>/<snapshot id>/gNNN.pkl        one pickle stream per group of aliased variables
    <notebook key>/<snapshot id>/gNNN.dat        that group's array data, 4 KiB aligned
    <notebook key>/.tmp-<id>-<pid>/               a snapshot being written; renamed when complete

A snapshot is complete only once renamed, so a crash at any point leaves the previous ones intact.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from typing import Any, TypedDict

from .files import parse_json
from .ownership import SnapshotError as SnapshotError
from .ownership import UnsafePathError, check_private_dir, notebook_dir, private_dir, read_private
from .paths import user_folder
from .typed_json import misfits

FORMAT = 1


class GroupFields(TypedDict):
    """A group of variables that share objects: one pickle stream and its array data."""

    names: list[str]
    stream: str
    stream_size: int
    data: str
    data_size: int


class Group(GroupFields, total=False):
    stream_xxh3: str  # checksums, checked before a byte is unpickled
    entries: list[dict[str, Any]]  # the arrays in the data file: offset, size, checksum, dtype...
    reused_from: str | None  # the snapshot whose unchanged files this one links


class VariableFields(TypedDict):
    type: str


class Variable(VariableFields, total=False):
    group: str
    nbytes: int | None  # None where its size could not be measured
    frozen_copy: bool  # changing while saved: a copy of one moment
    from_snapshot: str  # saved earlier, unchanged since (or changing too fast to save again)
    from_created_ts: float


class ManifestFields(TypedDict):
    """What every reader of a manifest relies on."""

    id: str
    created: str
    created_ts: float
    variables: dict[str, Variable]
    groups: dict[str, Group]


class Manifest(ManifestFields, total=False):
    """``manifest.json`` as written (every field) and read (``_path`` added: the snapshot's folder)."""

    format: int
    notebook: str | None
    reason: str | None
    python: str
    pid: int
    memory: dict[str, Any] | None
    modules: dict[str, str]  # variable name -> module imported again on restore
    skipped: dict[str, str]  # variable name -> why it was not saved
    bytes_written: int
    bytes_reused: int
    seconds: float
    renamed_from: str | None  # the notebook it was taken in, before a rename
    _path: str


MANIFEST = "manifest.json"
MAX_MANIFEST = 16 << 20  # read at most this much of one (a manifest lists variables and data parts)


def snapshot_ids(root: str) -> list[str]:
    """Complete snapshots in one notebook's folder, oldest first."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if not n.startswith(".") and os.path.isfile(os.path.join(root, n, MANIFEST)))


def read_manifest(path: str) -> Manifest:
    """The manifest of the snapshot at ``path``, with ``_path`` added; only from a folder and file of this user's."""
    check_private_dir(path)
    manifest: Manifest = _check_manifest(parse_json(read_private(os.path.join(path, MANIFEST), MAX_MANIFEST)), path)
    manifest["_path"] = path
    return manifest


def _check_manifest(manifest: Any, path: str) -> Manifest:
    """ValueError unless ``manifest`` has the fields and types colab-guard reads: a broken one is skipped."""
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: the manifest is not a JSON object")
    wrong = misfits(manifest, Manifest)
    if wrong:
        raise ValueError(f"{path}: not a colab-guard manifest (missing or malformed: {', '.join(wrong)})")
    return manifest  # type: ignore[return-value]


def latest_manifest(snapshot_dir: str, notebook: str | None) -> Manifest | None:
    """The newest complete snapshot of a notebook, or None."""
    try:
        root = notebook_dir(snapshot_dir, notebook)
    except FileNotFoundError:
        return None
    ids = snapshot_ids(root)
    return read_manifest(os.path.join(root, ids[-1])) if ids else None


def list_snapshots(
    snapshot_dir: str, notebook: str | None = None, on_unsafe: Callable[[UnsafePathError], None] | None = None
) -> list[Manifest]:
    """Manifests of every complete snapshot of the current user (of one notebook, or all), newest first.

    A folder or manifest someone else could have written is never read: it raises UnsafePathError,
    or, given ``on_unsafe``, is passed to it and skipped.
    """
    if notebook is not None:
        return notebook_snapshots(snapshot_dir, notebook, on_unsafe)
    unsafe = _unsafe_handler(on_unsafe)
    roots = []
    try:
        user = private_dir(snapshot_dir, user_folder())
        for name in sorted(os.listdir(user)):
            try:
                if stat.S_ISREG(os.lstat(os.path.join(user, name)).st_mode):
                    continue  # colab-guard's own files beside the notebooks' folders: server state, accelerator log
                check_private_dir(os.path.join(user, name))
            except FileNotFoundError:
                continue  # gone meanwhile (a state file's temporary name, a folder renamed)
            except UnsafePathError as exc:
                unsafe(exc)
                continue
            roots.append(os.path.join(user, name))
    except FileNotFoundError:
        pass
    except UnsafePathError as exc:
        unsafe(exc)
    return _manifests(roots, unsafe)


def notebook_snapshots(
    snapshot_dir: str, notebook: str | None, on_unsafe: Callable[[UnsafePathError], None] | None = None
) -> list[Manifest]:
    """Manifests of one notebook's complete snapshots (``None``: a kernel with no notebook), newest first."""
    unsafe = _unsafe_handler(on_unsafe)
    try:
        return _manifests([notebook_dir(snapshot_dir, notebook)], unsafe)
    except FileNotFoundError:
        return []
    except UnsafePathError as exc:
        unsafe(exc)
        return []


def _unsafe_handler(on_unsafe: Callable[[UnsafePathError], None] | None) -> Callable[[UnsafePathError], None]:
    """Raise an UnsafePathError, or hand it to ``on_unsafe``."""

    def unsafe(exc: UnsafePathError) -> None:
        if on_unsafe is None:
            raise exc
        on_unsafe(exc)

    return unsafe


def _manifests(roots: list[str], unsafe: Callable[[UnsafePathError], None]) -> list[Manifest]:
    """The readable manifests under ``roots``, newest first."""
    out = []
    for root in roots:
        for snap in snapshot_ids(root):
            try:
                out.append(read_manifest(os.path.join(root, snap)))
            except UnsafePathError as exc:
                unsafe(exc)
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
    """Delete one snapshot of the current user, named by its notebook key and id; nothing outside their folder."""
    base = os.path.realpath(snapshot_dir)
    for part in (notebook_dir, snapshot):
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
            raise SnapshotError(f"invalid snapshot name: {part[:80]!r}")
        if len(part.encode()) > 255:
            raise SnapshotError(f"invalid snapshot name: longer than a file name can be ({len(part)} characters)")
    if snapshot.startswith("."):  # a snapshot being written (.tmp-...), not a snapshot; a notebook key may start so
        raise SnapshotError(f"invalid snapshot name: {snapshot[:80]!r}")
    target = os.path.join(base, user_folder(), notebook_dir, snapshot)
    if os.path.islink(target) or os.path.islink(os.path.dirname(target)):
        raise SnapshotError("invalid snapshot name: a symbolic link")
    try:
        private_dir(base, user_folder(), notebook_dir, snapshot)  # each folder a real one of this user's
    except FileNotFoundError:
        raise FileNotFoundError(f"no snapshot {notebook_dir}/{snapshot}") from None
    if not os.path.isfile(os.path.join(target, MANIFEST)):
        raise FileNotFoundError(f"no snapshot {notebook_dir}/{snapshot}")
    shutil.rmtree(target)


def latest_summary(snapshot_dir: str, notebook: str | None) -> dict[str, Any] | None:
    """The summary of a notebook's newest snapshot, or None (also where its folder is not this user's alone)."""
    try:
        manifest = latest_manifest(snapshot_dir, notebook)
    except UnsafePathError:  # a post-mortem goes without; the kernel's %guard commands say why
        return None
    return None if manifest is None else snapshot_summary(manifest)
