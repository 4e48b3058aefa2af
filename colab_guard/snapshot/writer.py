"""Writing snapshots of a notebook's variables: safely, incrementally, within the disk's space.

A group whose pickle stream and data checksums equal the previous snapshot's is hard-linked from
it, not written again. The layout is described in ``colab_guard.contract.manifests``.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import xxhash

from ..contract.files import fsync_dir, write_small_file
from ..contract.heartbeat import pid_alive
from ..contract.manifests import FORMAT, MANIFEST, Group, Manifest, SnapshotError, Variable, latest_manifest, snapshot_ids
from ..contract.ownership import make_private_dir, notebook_dir
from ..contract.units import human_bytes
from . import pickling
from .choose import cheap_to_fingerprint, describe, group_variables, nbytes_of, skip_reason, user_variables
from .diskio import DirectWriter

# Extra free space demanded beyond the snapshot's own size, so the disk is not filled to the brim:
# 64 MiB, or 5 % of a small disk.
DISK_MARGIN = 64 << 20

_lock = threading.Lock()  # one snapshot at a time per process (watcher and user commands)
# A running cell changed a container while it was pickled: worth another try on a frozen copy.
CHANGING = ("changed size during iteration", "mutated during iteration")
FROZEN_TRIES = 3
# While a cell runs, a built-in container whose own table is at most this large is copied before
# it is written (the copy costs its table, not its items): the running cell may be growing it, and
# a try that fails half-way doubles the snapshot's time when the time left is shortest.
FREEZE_UP_FRONT = 16 << 20


class NothingToSave(SnapshotError):
    """The namespace holds no variable to save: no snapshot is made (it would take a kept slot)."""


def _changing(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and any(text in str(exc) for text in CHANGING)


def _frozen_copy(value: object) -> object:
    """A shallow copy of a built-in container, taken in one step (the GIL held): what it held at one
    moment, whatever the running cell does next. None for anything else."""
    if type(value) in (dict, list, set, bytearray):
        try:
            return copy.copy(value)  # the container's own copy(), in one step
        except RuntimeError:
            return None
    return None


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
    manifest: Manifest = field(repr=False, default_factory=dict)  # type: ignore[assignment]
    unchanged: bool = False  # nothing new since the newest snapshot, which this names: no slot taken


def _fingerprint(
    names: list[str], variables: dict[str, Any], namespace: dict[str, Any], checkpoint: Callable[[], None]
) -> tuple[str, list[dict[str, Any]]]:
    """Checksums of a group's pickle stream and data, written nowhere: is it unchanged since the last snapshot?"""
    sink = pickling.HashSink()
    store = pickling.DataStore(None, True, checkpoint)
    pickling.dump({n: variables[n] for n in names}, sink, store, namespace)
    return sink.digest.hexdigest(), store.entries


def _same_content(previous: Group | None, stream_xxh3: str, entries: list[dict[str, Any]]) -> bool:
    if previous is None or previous.get("stream_xxh3") != stream_xxh3:
        return False
    old = previous.get("entries", [])
    return len(old) == len(entries) and all(a["xxh3"] == b["xxh3"] and a["nbytes"] == b["nbytes"] for a, b in zip(old, entries))


def _new_id(now: float) -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{now % 1:.3f}"[1:].replace(".", "") + "Z"


def take_snapshot(
    namespace: dict[str, Any],
    snapshot_dir: str,
    notebook: str | None = None,
    keep: int = 3,
    hidden: dict[str, Any] | None = None,
    memory: dict[str, Any] | None = None,
    reason: str = "manual",
    cancel: threading.Event | None = None,
    live: bool = False,
) -> SnapshotResult:
    """Save the user's variables into a new snapshot; the previous ones are untouched until it is complete.

    Setting ``cancel`` stops it within one block or part (``SnapshotCancelled``), leaving nothing behind.
    ``live``: a cell is running and may change the variables while they are written.
    """
    with _lock:
        return _take(namespace, snapshot_dir, notebook, keep, hidden, memory, reason, cancel, live)


def _take(
    namespace: dict[str, Any],
    snapshot_dir: str,
    notebook: str | None,
    keep: int,
    hidden: dict[str, Any] | None,
    memory: dict[str, Any] | None,
    reason: str,
    cancel: threading.Event | None,
    live: bool,
) -> SnapshotResult:
    started = time.time()

    def checkpoint() -> None:
        if cancel is not None and cancel.is_set():
            raise pickling.SnapshotCancelled("cancelled: a cell started")

    root = notebook_dir(snapshot_dir, notebook, create=True)  # this user's alone, never through a link
    _remove_abandoned(root)
    previous = latest_manifest(snapshot_dir, notebook)
    plan = _plan(namespace, hidden, previous, checkpoint)
    _check_disk(root, snapshot_dir, plan)
    snap_id = _new_id(started)
    while os.path.exists(os.path.join(root, snap_id)):  # two snapshots within a millisecond
        started += 0.001
        snap_id = _new_id(started)
    tmp = os.path.join(root, f".tmp-{snap_id}-{os.getpid()}")
    make_private_dir(tmp, exist_ok=False)
    try:
        written = _write(tmp, plan, namespace, previous, checkpoint, live)
        if not written.variables and not plan.modules:
            raise NothingToSave("there is no variable to save yet")
        if previous is not None and _nothing_new(previous, written.variables, plan.modules, plan.skipped, written.written):
            shutil.rmtree(tmp, ignore_errors=True)
            return _result_of(previous)
        manifest: Manifest = {
            "format": FORMAT,
            "id": snap_id,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "created_ts": started,
            "notebook": notebook,
            "reason": reason,
            "python": sys.version.split()[0],
            "pid": os.getpid(),
            "memory": memory,
            "variables": written.variables,
            "modules": plan.modules,
            "skipped": plan.skipped,
            "groups": written.groups,
            "bytes_written": written.written,
            "bytes_reused": written.reused,
            "seconds": round(time.time() - started, 4),
        }
        final = _publish(root, tmp, manifest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SnapshotError(
            f"the snapshot could not be written to {snapshot_dir}: {exc.strerror or exc}; the previous snapshot is kept"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(root, keep)
    return SnapshotResult(
        snap_id, final, sorted(written.variables), plan.skipped, written.written, written.reused, manifest["seconds"], manifest
    )


@dataclass
class _Plan:
    """What a snapshot will hold: the variables by group, each group to write or to link unchanged."""

    variables: dict[str, object]
    skipped: dict[str, str]  # name -> why it is not saved (filled further while writing)
    modules: dict[str, str]  # name -> module imported again on restore
    groups: list[tuple[list[str], tuple[Group, str] | None]]  # (names, previous group and its folder, to link)
    previous: dict[tuple[str, ...], tuple[Group, str]]  # the previous snapshot's groups by their names


def _plan(
    namespace: dict[str, Any], hidden: dict[str, Any] | None, previous: Manifest | None, checkpoint: Callable[[], None]
) -> _Plan:
    """Choose the variables, group those sharing objects, and find the groups unchanged since ``previous``."""
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

    # Unchanged groups are hard-linked from the previous snapshot. Where checksumming a group is
    # cheap (its data is arrays and tensors), it is done first; object-heavy groups are pickled
    # once, straight to disk, and linked afterwards if they turn out unchanged.
    groups: list[tuple[list[str], tuple[Group, str] | None]] = []
    for names in group_variables(variables):
        prev = previous_groups.get(tuple(names))
        if prev and all(cheap_to_fingerprint(variables[n]) for n in names):
            try:
                if _same_content(prev[0], *_fingerprint(names, variables, namespace, checkpoint)):
                    groups.append((names, prev))
                    continue
            except pickling.SnapshotCancelled:
                raise
            except Exception:  # noqa: BLE001 - written (or skipped with its reason) below
                pass
        groups.append((names, None))
    return _Plan(variables, skipped, modules, groups, previous_groups)


def _check_disk(root: str, snapshot_dir: str, plan: _Plan) -> None:
    """Refuse, before writing anything, a snapshot that the disk cannot hold."""
    needed = sum(nbytes_of(plan.variables[n]) or 0 for names, prev in plan.groups if prev is None for n in names)
    disk = shutil.disk_usage(root)
    if needed + min(DISK_MARGIN, disk.total // 20) > disk.free:
        raise SnapshotError(
            f"not enough disk space for a snapshot: it needs {human_bytes(needed)} and "
            f"{human_bytes(disk.free)} is free in {snapshot_dir}; the previous snapshot is kept"
        )


@dataclass
class _Written:
    """The groups written or linked into the snapshot's folder, and what each variable is."""

    groups: dict[str, Group] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    written: int = 0
    reused: int = 0


def _write(
    tmp: str, plan: _Plan, namespace: dict[str, Any], previous: Manifest | None, checkpoint: Callable[[], None], live: bool
) -> _Written:
    """Write each group of the plan into ``tmp`` (or link it from ``previous``); a variable that
    cannot be pickled is saved alone, as a copy of one moment while it changes, or skipped."""
    variables, skipped = dict(plan.variables), plan.skipped
    out = _Written()
    frozen: dict[str, int] = {}  # name -> tries on a frozen copy
    if live:  # one variable alone in its group: a copy shares nothing that another variable holds
        for names, prev in plan.groups:
            value = variables[names[0]]
            copy = _frozen_copy(value) if prev is None and len(names) == 1 and sys.getsizeof(value) <= FREEZE_UP_FRONT else None
            if copy is not None:
                variables[names[0]], frozen[names[0]] = copy, 1
    queue = list(plan.groups)
    while queue:
        names, prev = queue.pop(0)
        gid = f"g{len(out.groups):03d}"
        if prev is None:
            try:
                group = _write_group(tmp, gid, names, variables, namespace, checkpoint)
            except (SnapshotError, OSError, pickling.SnapshotCancelled):
                raise
            except Exception as exc:  # noqa: BLE001 - cannot be pickled: alone, or with the others of its group
                _remove_group_files(tmp, gid)
                if len(names) > 1:
                    queue[:0] = [([name], None) for name in names]
                    continue
                name = names[0]
                copy = _frozen_copy(variables[name]) if _changing(exc) and frozen.get(name, 0) < FROZEN_TRIES else None
                if copy is not None:  # the running cell changes it: save what it held at one moment
                    frozen[name] = frozen.get(name, 0) + 1
                    variables[name] = copy
                    queue.insert(0, (names, None))
                    continue
                carried = _carried_from(previous, name)
                if previous is None or carried is None or not _changing(exc):
                    skipped[name] = f"cannot be pickled: {type(exc).__name__}: {exc}"
                    continue
                # kept as the newest earlier snapshot saved it, saying from when
                old_group, info = carried
                info["group"] = gid  # where restore finds it in this snapshot
                group = _link_group(tmp, gid, old_group, previous["_path"], previous["id"])
                out.reused += group["stream_size"] + group["data_size"]
                out.groups[gid] = group
                out.variables[name] = info
                continue
            old = plan.previous.get(tuple(names))
            if old and _same_content(old[0], group["stream_xxh3"], group["entries"]):
                _remove_group_files(tmp, gid)  # unchanged after all: share the previous files
                prev = old
            else:
                out.written += group["stream_size"] + group["data_size"]
        if prev is not None:
            group = _link_group(tmp, gid, prev[0], prev[1], previous["id"] if previous else "")
            out.reused += group["stream_size"] + group["data_size"]
        out.groups[gid] = group
        for name in names:
            out.variables[name] = {"group": gid, "type": describe(variables[name]), "nbytes": nbytes_of(variables[name])}
            if frozen.get(name):
                out.variables[name]["frozen_copy"] = True  # changing while saved: a copy of one moment
    return out


def _publish(root: str, tmp: str, manifest: Manifest) -> str:
    """Write the manifest and make the snapshot complete at once (a rename); returns its folder."""
    write_small_file(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=1).encode())
    fsync_dir(tmp)
    final = os.path.join(root, manifest["id"])
    os.rename(tmp, final)
    fsync_dir(root)
    return final


def _carried_from(previous: Manifest | None, name: str) -> tuple[Group, Variable] | None:
    """The previous snapshot's group holding ``name`` and its entry, marked with the moment it is from."""
    if previous is None or name not in previous.get("variables", {}):
        return None
    info = previous["variables"][name].copy()
    group = previous["groups"].get(info.get("group") or "")
    if group is None:
        return None
    info.setdefault("from_snapshot", previous["id"])
    info.setdefault("from_created_ts", previous["created_ts"])
    return group, info


def _nothing_new(
    previous: Manifest, var_info: dict[str, Variable], modules: dict[str, Any], skipped: dict[str, Any], written: int
) -> bool:
    """Every variable's bytes equal the newest snapshot's: a new one would only take a kept slot."""
    if written or set(var_info) != set(previous["variables"]):
        return False
    return modules == previous.get("modules") and set(skipped) == set(previous.get("skipped", {}))


def _result_of(manifest: Manifest) -> SnapshotResult:
    """The newest snapshot, named as the result of a snapshot that found nothing new."""
    return SnapshotResult(
        manifest["id"],
        manifest["_path"],
        sorted(manifest["variables"]),
        manifest.get("skipped", {}),
        0,
        manifest.get("bytes_written", 0) + manifest.get("bytes_reused", 0),
        0.0,
        manifest,
        unchanged=True,
    )


def _link_group(tmp: str, gid: str, old: Group, old_path: str, previous_id: str) -> Group:
    """Reuse an unchanged group of the previous snapshot: hard links, no bytes written."""
    for kind in ("stream", "data"):
        os.link(os.path.join(old_path, old[kind]), os.path.join(tmp, f"{gid}.{old[kind].rsplit('.', 1)[1]}"))
    return {**old, "stream": f"{gid}.pkl", "data": f"{gid}.dat", "reused_from": old.get("reused_from") or previous_id}


def _write_group(
    tmp: str, gid: str, names: list[str], variables: dict[str, Any], namespace: dict[str, Any], checkpoint: Callable[[], None]
) -> Group:
    """Pickle one group into its stream and data files, checksumming both as they are written."""
    stream = DirectWriter(os.path.join(tmp, f"{gid}.pkl"))
    data = DirectWriter(os.path.join(tmp, f"{gid}.dat"))
    hashing = _HashingWriter(stream)
    store = pickling.DataStore(data, True, checkpoint)
    try:
        pickling.dump({n: variables[n] for n in names}, hashing, store, namespace)
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

    def write(self, data: Any) -> int:
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
