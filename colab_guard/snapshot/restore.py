"""Restoring a snapshot's variables into a namespace, checking every byte against its checksum."""

from __future__ import annotations

import io
import mmap
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xxhash

from ..contract.manifests import Group, Manifest, SnapshotError, list_snapshots, read_manifest, snapshot_ids
from ..contract.ownership import notebook_dir, open_private
from .load_context import LoadContext


@dataclass
class RestoreResult:
    snapshot: str
    restored: list[str]
    failed: dict[str, str]
    modules: list[str]
    notes: list[str]


def restore_snapshot(
    namespace: dict[str, Any],
    snapshot_dir: str,
    notebook: str | None = None,
    snapshot: str | None = None,
    names: list[str] | None = None,
    use_mmap: bool = False,
) -> RestoreResult:
    """Load a snapshot's variables (all, or ``names``) into ``namespace``.

    With ``use_mmap`` large arrays are mapped copy-on-write from the file: instant and lazy.
    """
    manifest = _find(snapshot_dir, notebook, snapshot)
    path = manifest["_path"]
    wanted = set(names) if names else set(manifest["variables"]) | set(manifest["modules"])
    unknown = wanted - set(manifest["variables"]) - set(manifest["modules"])
    failed = {n: manifest["skipped"].get(n, "not in this snapshot") for n in unknown}
    restored, modules, notes = [], [], []
    for alias, module in manifest["modules"].items():
        if alias in wanted:
            try:
                namespace[alias] = __import__(module, fromlist=["_"])
                modules.append(alias)
            except ImportError as exc:
                failed[alias] = f"import {module} failed: {exc}"
    for gid, group in manifest["groups"].items():
        # a group kept from an earlier snapshot restores only the names this snapshot took from it
        variables = manifest["variables"]
        group_names = [n for n in group["names"] if n in wanted and n in variables and variables[n].get("group") == gid]
        if not group_names:
            continue
        try:
            values, group_notes = _load_group(path, group, use_mmap, namespace)
        except Exception as exc:  # noqa: BLE001 - one bad group must not stop the others
            for n in group_names:
                failed[n] = f"{type(exc).__name__}: {exc}"
            continue
        notes += group_notes
        for n in group_names:
            info = manifest["variables"][n]
            if info.get("from_snapshot"):
                when = time.strftime("%H:%M:%S", time.localtime(info.get("from_created_ts") or 0))
                notes.append(
                    f"{n} is as it was at {when} (snapshot {info['from_snapshot']}): it was changing when the newest one was written"
                )
            namespace[n] = values[n]
            restored.append(n)
    return RestoreResult(manifest["id"], sorted(restored), failed, modules, notes)


def _find(snapshot_dir: str, notebook: str | None, snapshot: str | None) -> Manifest:
    """This notebook's newest snapshot, or the one named: of this notebook, else of any of the
    user's notebooks (naming it is the user's choice to load another notebook's variables)."""
    try:
        root = notebook_dir(snapshot_dir, notebook)  # this user's alone: a pickle is code
        ids = snapshot_ids(root)
    except FileNotFoundError:
        ids = []
    if snapshot is None:
        if not ids:
            raise SnapshotError(f"no snapshot of {notebook or 'this session'} in {snapshot_dir}")
        return read_manifest(os.path.join(root, ids[-1]))
    matches = [i for i in ids if i == snapshot or i.startswith(snapshot)]
    if len(matches) == 1:
        return read_manifest(os.path.join(root, matches[0]))
    if not matches:
        elsewhere = [m for m in list_snapshots(snapshot_dir) if m["id"] == snapshot or m["id"].startswith(snapshot)]
        if len(elsewhere) == 1:
            return elsewhere[0]
        matches = [m["id"] for m in elsewhere]
    available = ", ".join(ids) or "none of this notebook's (`%guard list --all` lists every notebook's)"
    raise SnapshotError(f"snapshot {snapshot!r} {'is ambiguous' if matches else 'not found'}; available: {available}")


def _load_group(path: str, group: Group, use_mmap: bool, namespace: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    entries = group["entries"]
    data_path = os.path.join(path, group["data"])
    with os.fdopen(open_private(data_path), "rb", buffering=0) as data:  # no link, this user's alone
        mapped = mmap.mmap(data.fileno(), 0, access=mmap.ACCESS_COPY) if use_mmap and group["data_size"] else None

        def read_entry(index: int, shape: tuple[int, ...] | None, dtype: Any) -> np.ndarray:
            entry = entries[index]
            dtype = np.dtype(dtype)
            shape = (entry["nbytes"] // max(dtype.itemsize, 1),) if shape is None else shape
            if mapped is not None:
                arr: np.ndarray = np.ndarray(shape, dtype, buffer=mapped, offset=entry["offset"])
                if entry.get("kind") == "pickle-part" and xxhash.xxh3_128_hexdigest(arr.view(np.uint8).data) != entry["xxh3"]:
                    raise SnapshotError(f"checksum mismatch in {group['data']}: the snapshot is damaged")
                return arr  # array data is mapped lazily, unread: it is data, never code
            arr = np.empty(shape, dtype)
            view = arr.reshape(-1).view(np.uint8)
            got = _read_into(data.fileno(), view, entry["offset"])
            if got != entry["nbytes"]:
                raise SnapshotError(f"{group['data']} is truncated: read {got} of {entry['nbytes']} bytes")
            if xxhash.xxh3_128_hexdigest(view.data) != entry["xxh3"]:
                raise SnapshotError(f"checksum mismatch in {group['data']}: the snapshot is damaged")
            if hasattr(os, "posix_fadvise"):  # read once: its page cache would count against the limit too
                os.posix_fadvise(data.fileno(), entry["offset"], entry["nbytes"], os.POSIX_FADV_DONTNEED)
            return arr

        # A pickle is code: every byte of the stream is checked before any of it is unpickled (the
        # stream holds references; the bulk is in the data file, whose parts are checked as read).
        with os.fdopen(open_private(os.path.join(path, group["stream"])), "rb") as raw:
            stream_bytes = raw.read()
        if xxhash.xxh3_128_hexdigest(stream_bytes) != group["stream_xxh3"]:
            raise SnapshotError(f"checksum mismatch in {group['stream']}: the snapshot is damaged")
        with LoadContext(read_entry, namespace=namespace) as ctx:
            values = ctx.unpickler(io.BytesIO(stream_bytes)).load()
        del stream_bytes
        if not use_mmap and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(data.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # the data now lives in the arrays
    return values, ctx.notes


def _read_into(fd: int, view: np.ndarray, offset: int) -> int:
    """Fill ``view`` from ``fd`` at ``offset``; one read returns at most about 2 GiB on Linux."""
    done, buffer = 0, view.data.cast("B")
    while done < len(buffer):
        got = os.preadv(fd, [buffer[done:]], offset + done)
        if got == 0:
            break
        done += got
    return done
