"""Writing snapshots of a notebook's variables: safely, incrementally, within the disk's space.

A group whose pickle stream and data checksums equal the previous snapshot's is hard-linked from
it, not written again. The layout is described in ``colab_guard.contract.manifests``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import types
from dataclasses import dataclass, field

import xxhash

from ..contract.files import fsync_dir, write_small_file
from ..contract.heartbeat import pid_alive
from ..contract.manifests import FORMAT, MANIFEST, SnapshotError, latest_manifest, snapshot_ids
from ..contract.ownership import make_private_dir, notebook_dir
from ..readers.memory import human_bytes
from . import pickling
from .choose import describe, group_variables, nbytes_of, skip_reason, user_variables
from .diskio import DirectWriter

# Extra free space demanded beyond the snapshot's own size, so the disk is not filled to the brim:
# 64 MiB, or 5 % of a small disk.
DISK_MARGIN = 64 << 20

_lock = threading.Lock()  # one snapshot at a time per process (watcher and user commands)


@dataclass
class SnapshotResult:
    """What one snapshot did."""

    id: str
    path: str
    variables: list[str]
    skipped: dict[str, str]
    bytes_written: int
    bytes_reused: int
    seconds: float
    manifest: dict = field(repr=False, default_factory=dict)


def _dry_run(names: list[str], variables: dict, checksums: bool = True):
    """Pickle a group without writing: its stream checksum, size and data entries.

    Without ``checksums`` only sizes are computed (the data is not read): enough for a group that
    has no previous version to compare with.
    """
    sink = pickling.HashSink()
    store = pickling.DataStore(None, checksums)
    pickling.dump({n: variables[n] for n in names}, sink, store)
    return sink.digest.hexdigest(), sink.size, store.entries


def _same_content(previous: dict | None, stream_xxh3: str, entries: list[dict]) -> bool:
    if previous is None or previous.get("stream_xxh3") != stream_xxh3:
        return False
    old = previous.get("entries", [])
    return len(old) == len(entries) and all(a["xxh3"] == b["xxh3"] and a["nbytes"] == b["nbytes"] for a, b in zip(old, entries))


def _new_id(now: float) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{now % 1:.3f}"[1:].replace(".", "") + "Z"


def take_snapshot(
    namespace: dict,
    snapshot_dir: str,
    notebook: str | None = None,
    keep: int = 3,
    hidden: dict | None = None,
    memory: dict | None = None,
    reason: str = "manual",
) -> SnapshotResult:
    """Save the user's variables into a new snapshot; the previous ones are untouched until it is complete."""
    with _lock:
        return _take(namespace, snapshot_dir, notebook, keep, hidden, memory, reason)


def _take(namespace, snapshot_dir, notebook, keep, hidden, memory, reason) -> SnapshotResult:
    started = time.time()
    root = notebook_dir(snapshot_dir, notebook, create=True)  # this user's alone, never through a link
    _remove_abandoned(root)
    previous = latest_manifest(snapshot_dir, notebook)
    previous_groups = {tuple(g["names"]): (g, previous["_path"]) for g in previous["groups"].values()} if previous else {}

    variables, skipped, modules = {}, {}, {}
    for name, value in user_variables(namespace, hidden).items():
        if isinstance(value, types.ModuleType):
            modules[name] = value.__name__  # restored by importing it again
            continue
        reason_skipped = skip_reason(value)
        if reason_skipped:
            skipped[name] = reason_skipped
        else:
            variables[name] = value

    # First pass: checksums and sizes only. Tells which groups changed and how much space is needed.
    plans = []
    for names in group_variables(variables):
        try:
            stream_xxh3, stream_size, entries = _dry_run(names, variables, tuple(names) in previous_groups)
        except Exception as exc:  # noqa: BLE001 - a group that cannot be pickled is split up below
            plans.extend(_split_failed_group(names, variables, skipped, exc))
            continue
        plans.append((names, stream_xxh3, stream_size, entries))

    needed = 0
    for names, stream_xxh3, stream_size, entries in plans:
        prev = previous_groups.get(tuple(names))
        if not (prev and _same_content(prev[0], stream_xxh3, entries)):
            needed += stream_size + sum(e["nbytes"] + 4096 for e in entries)
    disk = shutil.disk_usage(root)
    if needed + min(DISK_MARGIN, disk.total // 20) > disk.free:
        raise SnapshotError(
            f"not enough disk space for a snapshot: it needs {human_bytes(needed)} and "
            f"{human_bytes(disk.free)} is free in {snapshot_dir}; the previous snapshot is kept"
        )

    snap_id = _new_id(started)
    while os.path.exists(os.path.join(root, snap_id)):  # two snapshots within a millisecond
        started += 0.001
        snap_id = _new_id(started)
    tmp = os.path.join(root, f".tmp-{snap_id}-{os.getpid()}")
    make_private_dir(tmp, exist_ok=False)
    groups, var_info = {}, {}
    written = reused = 0
    try:
        for i, (names, stream_xxh3, _stream_size, entries) in enumerate(plans):
            gid = f"g{i:03d}"
            prev = previous_groups.get(tuple(names))
            if prev and _same_content(prev[0], stream_xxh3, entries):
                old, old_path = prev
                for kind in ("stream", "data"):
                    os.link(os.path.join(old_path, old[kind]), os.path.join(tmp, f"{gid}.{old[kind].rsplit('.', 1)[1]}"))
                group = {
                    **old,
                    "stream": f"{gid}.pkl",
                    "data": f"{gid}.dat",
                    "reused_from": old.get("reused_from") or (previous or {}).get("id"),
                }
                reused += old["stream_size"] + old["data_size"]
            else:
                try:
                    group = _write_group(tmp, gid, names, variables)
                except (SnapshotError, OSError):
                    raise
                except Exception as exc:  # noqa: BLE001 - changed while being saved: skip, keep going
                    for name in names:
                        skipped[name] = f"could not be saved: {type(exc).__name__}: {exc}"
                    _remove_group_files(tmp, gid)
                    continue
                written += group["stream_size"] + group["data_size"]
            groups[gid] = group
            for name in names:
                var_info[name] = {"group": gid, "type": describe(variables[name]), "nbytes": nbytes_of(variables[name])}

        manifest = {
            "format": FORMAT,
            "id": snap_id,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "created_ts": started,
            "notebook": notebook,
            "reason": reason,
            "python": sys.version.split()[0],
            "pid": os.getpid(),
            "memory": memory,
            "variables": var_info,
            "modules": modules,
            "skipped": skipped,
            "groups": groups,
            "bytes_written": written,
            "bytes_reused": reused,
            "seconds": round(time.time() - started, 4),
        }
        write_small_file(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=1).encode())
        fsync_dir(tmp)
        final = os.path.join(root, snap_id)
        os.rename(tmp, final)
        fsync_dir(root)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SnapshotError(
            f"the snapshot could not be written to {snapshot_dir}: {exc.strerror or exc}; the previous snapshot is kept"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, keep)
    return SnapshotResult(snap_id, final, sorted(var_info), skipped, written, reused, manifest["seconds"], manifest)


def _split_failed_group(names, variables, skipped, exc):
    """A group that fails to pickle: retry its variables one by one, skipping the bad ones."""
    plans = []
    if len(names) == 1:
        skipped[names[0]] = f"cannot be pickled: {type(exc).__name__}: {exc}"
        return plans
    for name in names:
        try:
            plans.append(([name], *_dry_run([name], variables)))
        except Exception as one_exc:  # noqa: BLE001
            skipped[name] = f"cannot be pickled: {type(one_exc).__name__}: {one_exc}"
    return plans


def _write_group(tmp: str, gid: str, names: list[str], variables: dict) -> dict:
    stream = DirectWriter(os.path.join(tmp, f"{gid}.pkl"))
    data = DirectWriter(os.path.join(tmp, f"{gid}.dat"))
    hashing = _HashingWriter(stream)
    store = pickling.DataStore(data)
    try:
        pickling.dump({n: variables[n] for n in names}, hashing, store)
    except BaseException:
        stream.abort()
        data.abort()
        raise
    stream_size = stream.close()
    data_size = data.close()
    return {
        "names": names,
        "stream": f"{gid}.pkl",
        "stream_size": stream_size,
        "stream_xxh3": hashing.digest.hexdigest(),
        "data": f"{gid}.dat",
        "data_size": data_size,
        "entries": store.entries,
        "reused_from": None,
    }


class _HashingWriter:
    """Passes the pickle stream to a writer while checksumming it."""

    def __init__(self, writer: DirectWriter):
        self.writer = writer
        self.digest = xxhash.xxh3_128()

    def write(self, data):
        self.digest.update(data)
        self.writer.write(data)
        return len(memoryview(data).cast("B"))


def _remove_group_files(tmp: str, gid: str) -> None:
    for ext in ("pkl", "dat"):
        try:
            os.unlink(os.path.join(tmp, f"{gid}.{ext}"))
        except FileNotFoundError:
            pass


def _remove_abandoned(root: str) -> None:
    """Delete temporary dirs of snapshots whose writer died half-way."""
    for name in os.listdir(root):
        if name.startswith(".tmp-"):
            pid = name.rsplit("-", 1)[-1]
            if not (pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid))):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _prune(root: str, keep: int) -> None:
    """Keep the newest ``keep`` complete snapshots of this notebook."""
    for snap in snapshot_ids(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(os.path.join(root, snap), ignore_errors=True)
