"""Snapshots of a notebook's variables: written safely, incrementally, and restored exactly.

Layout under the snapshot dir (owner-only permissions)::

    <notebook key>/<snapshot id>/manifest.json   what is in it: variables, sizes, checksums, skipped
    <notebook key>/<snapshot id>/gNNN.pkl        one pickle stream per group of aliased variables
    <notebook key>/<snapshot id>/gNNN.dat        that group's array data, 4 KiB aligned
    <notebook key>/.tmp-<id>-<pid>/               a snapshot being written; renamed when complete

A snapshot is complete only once renamed, so a crash at any point leaves the previous ones intact.
A group whose pickle stream and data checksums equal the previous snapshot's is hard-linked from
it, not written again.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import shutil
import sys
import threading
import time
import types
from dataclasses import dataclass, field

import numpy as np
import xxhash

from . import snapshot_pickle as sp
from .memory import human_bytes
from .snapshot_io import DirectWriter, fsync_dir, write_small_file

FORMAT = 1
MANIFEST = "manifest.json"
NO_NOTEBOOK = "no-notebook"
# Extra free space demanded beyond the snapshot's own size, so the disk is not filled to the brim:
# 64 MiB, or 5 % of a small disk.
DISK_MARGIN = 64 << 20
# Containers up to this size are looked into when finding variables that share objects.
ALIAS_SCAN_LIMIT = 1000

_lock = threading.Lock()  # one snapshot at a time per process (watcher and user commands)


class SnapshotError(Exception):
    """A snapshot that cannot be taken or restored, with the reason for the user."""


def notebook_key(notebook: str | None) -> str:
    """A directory name for a notebook path: readable, and unique through a short hash."""
    if not notebook:
        return NO_NOTEBOOK
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", notebook.replace(os.sep, "__")).strip("-.")[-80:]
    return f"{readable}-{hashlib.sha1(notebook.encode()).hexdigest()[:8]}"


def snapshot_root(snapshot_dir: str, notebook: str | None) -> str:
    return os.path.join(snapshot_dir, notebook_key(notebook))


# ---- choosing what to save --------------------------------------------------------------------


def user_variables(namespace: dict, hidden: dict | None = None) -> dict:
    """What ``%who`` lists: the user's names, not IPython's own or underscore-prefixed ones."""
    hidden = hidden or {}
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("_") and not (name in hidden and hidden[name] is value) and name not in ("In", "Out", "exit", "quit", "get_ipython")
    }


def _skip_reason(value) -> str | None:
    """Why a value cannot be saved usefully, decided without trying to pickle it."""
    if isinstance(value, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        return "a generator or coroutine: its running state cannot be saved"
    if isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == "__main__":
        return "defined in the notebook: re-run the cell that defines it"
    if isinstance(value, (types.BuiltinFunctionType, types.MethodType)):
        return None
    if hasattr(value, "fileno") and hasattr(value, "close"):
        return "an open file, socket or connection: reopen it after restoring"
    return None


def _identity_keys(value, depth: int = 2) -> set:
    """Ids of the objects a variable holds, to group variables that share any of them."""
    keys = {id(value)}
    if isinstance(value, np.ndarray):
        root = value
        while isinstance(root.base, np.ndarray):
            root = root.base
        keys.add(id(root))
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor) and value.layout == torch.strided:
        keys.add(("storage", value.untyped_storage().data_ptr()))
    if depth > 0:
        items = ()
        if isinstance(value, (list, tuple, set, frozenset)) and len(value) <= ALIAS_SCAN_LIMIT:
            items = value
        elif isinstance(value, dict) and len(value) <= ALIAS_SCAN_LIMIT:
            items = value.values()
        elif hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType)):
            attrs = getattr(value, "__dict__", None)
            if isinstance(attrs, dict) and len(attrs) <= ALIAS_SCAN_LIMIT:
                items = attrs.values()
        for item in items:
            if not isinstance(item, (int, float, str, bytes, bool, type(None))):
                keys |= _identity_keys(item, depth - 1)
    return keys


def group_variables(variables: dict) -> list[list[str]]:
    """Partition names so variables sharing any object (a view and its base...) stay together."""
    owner: dict = {}
    parent = {name: name for name in variables}

    def find(name):
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for name, value in variables.items():
        for key in _identity_keys(value):
            if key in owner:
                parent[find(name)] = find(owner[key])
            else:
                owner[key] = name
    groups: dict[str, list[str]] = {}
    for name in variables:
        groups.setdefault(find(name), []).append(name)
    return sorted((sorted(names) for names in groups.values()), key=lambda names: names[0])


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    kind = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    if shape is not None:
        return f"{kind} {dtype} {tuple(shape)}" if dtype is not None else f"{kind} {tuple(shape)}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"{kind} of {len(value)}"
    return kind


# ---- writing ----------------------------------------------------------------------------------


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
    sink = sp.HashSink()
    store = sp.DataStore(None, checksums)
    sp.dump({n: variables[n] for n in names}, sink, store)
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
    root = snapshot_root(snapshot_dir, notebook)
    os.makedirs(root, mode=0o700, exist_ok=True)
    _remove_abandoned(root)
    previous = latest_manifest(snapshot_dir, notebook)
    previous_groups = {tuple(g["names"]): (g, previous["_path"]) for g in previous["groups"].values()} if previous else {}

    variables, skipped, modules = {}, {}, {}
    for name, value in user_variables(namespace, hidden).items():
        if isinstance(value, types.ModuleType):
            modules[name] = value.__name__  # restored by importing it again
            continue
        reason_skipped = _skip_reason(value)
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
    os.mkdir(tmp, 0o700)
    groups, var_info = {}, {}
    written = reused = 0
    try:
        for i, (names, stream_xxh3, stream_size, entries) in enumerate(plans):
            gid = f"g{i:03d}"
            prev = previous_groups.get(tuple(names))
            if prev and _same_content(prev[0], stream_xxh3, entries):
                old, old_path = prev
                for kind in ("stream", "data"):
                    os.link(os.path.join(old_path, old[kind]), os.path.join(tmp, f"{gid}.{old[kind].rsplit('.', 1)[1]}"))
                group = {**old, "stream": f"{gid}.pkl", "data": f"{gid}.dat", "reused_from": old.get("reused_from") or previous["id"]}
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
                var_info[name] = {"group": gid, "type": _describe(variables[name]), "nbytes": nbytes_of(variables[name])}

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
    store = sp.DataStore(data)
    try:
        sp.dump({n: variables[n] for n in names}, hashing, store)
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


def nbytes_of(value, depth: int = 1) -> int | None:
    """Memory a variable holds: arrays and tensors by their data, containers with what they hold."""
    if depth > 0 and isinstance(value, (list, tuple, set, dict)) and len(value) <= 100_000:
        items = value.values() if isinstance(value, dict) else value
        return sys.getsizeof(value) + sum(nbytes_of(item, depth - 1) or 0 for item in items)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, (int, np.integer)):
        return int(nbytes)
    memory_usage = getattr(value, "memory_usage", None)  # pandas
    if callable(memory_usage):
        try:
            usage = memory_usage(deep=False)
            return int(usage.sum() if hasattr(usage, "sum") else usage)
        except Exception:  # noqa: BLE001
            return None
    try:
        return sys.getsizeof(value)
    except TypeError:
        return None


def _remove_abandoned(root: str) -> None:
    """Delete temporary dirs of snapshots whose writer died half-way."""
    for name in os.listdir(root):
        if name.startswith(".tmp-"):
            pid = name.rsplit("-", 1)[-1]
            if not (pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid))):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def pid_alive(pid) -> bool:
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


def _prune(root: str, keep: int) -> None:
    """Keep the newest ``keep`` complete snapshots of this notebook."""
    for snap in _snapshot_ids(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(os.path.join(root, snap), ignore_errors=True)


# ---- reading ----------------------------------------------------------------------------------


def _snapshot_ids(root: str) -> list[str]:
    """Complete snapshots, oldest first."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if not n.startswith(".") and os.path.isfile(os.path.join(root, n, MANIFEST)))


def read_manifest(path: str) -> dict:
    with open(os.path.join(path, MANIFEST)) as f:
        manifest = json.load(f)
    manifest["_path"] = path
    return manifest


def latest_manifest(snapshot_dir: str, notebook: str | None) -> dict | None:
    root = snapshot_root(snapshot_dir, notebook)
    ids = _snapshot_ids(root)
    return read_manifest(os.path.join(root, ids[-1])) if ids else None


def list_snapshots(snapshot_dir: str, notebook: str | None = None) -> list[dict]:
    """Manifests of every complete snapshot (of one notebook, or all), newest first."""
    roots = [snapshot_root(snapshot_dir, notebook)] if notebook is not None else [
        os.path.join(snapshot_dir, d) for d in (os.listdir(snapshot_dir) if os.path.isdir(snapshot_dir) else [])
    ]
    out = []
    for root in roots:
        for snap in _snapshot_ids(root):
            try:
                out.append(read_manifest(os.path.join(root, snap)))
            except (OSError, ValueError):
                continue
    return sorted(out, key=lambda m: m["created_ts"], reverse=True)


@dataclass
class RestoreResult:
    snapshot: str
    restored: list[str]
    failed: dict[str, str]
    modules: list[str]
    notes: list[str]


def restore_snapshot(
    namespace: dict,
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
        group_names = [n for n in group["names"] if n in wanted]
        if not group_names:
            continue
        try:
            values, group_notes = _load_group(path, group, use_mmap)
        except Exception as exc:  # noqa: BLE001 - one bad group must not stop the others
            for n in group_names:
                failed[n] = f"{type(exc).__name__}: {exc}"
            continue
        notes += group_notes
        for n in group_names:
            namespace[n] = values[n]
            restored.append(n)
    return RestoreResult(manifest["id"], sorted(restored), failed, modules, notes)


def _find(snapshot_dir: str, notebook: str | None, snapshot: str | None) -> dict:
    root = snapshot_root(snapshot_dir, notebook)
    ids = _snapshot_ids(root)
    if not ids:
        raise SnapshotError(f"no snapshot of {notebook or 'this session'} in {snapshot_dir}")
    if snapshot is None:
        return read_manifest(os.path.join(root, ids[-1]))
    matches = [i for i in ids if i == snapshot or i.startswith(snapshot)]
    if len(matches) != 1:
        raise SnapshotError(f"snapshot {snapshot!r} {'is ambiguous' if matches else 'not found'}; available: {', '.join(ids)}")
    return read_manifest(os.path.join(root, matches[0]))


def _load_group(path: str, group: dict, use_mmap: bool):
    entries = group["entries"]
    data_path = os.path.join(path, group["data"])
    with open(data_path, "rb", buffering=0) as data:
        mapped = mmap.mmap(data.fileno(), 0, access=mmap.ACCESS_COPY) if use_mmap and group["data_size"] else None

        def read_entry(index, shape, dtype):
            entry = entries[index]
            dtype = np.dtype(dtype)
            shape = (entry["nbytes"] // max(dtype.itemsize, 1),) if shape is None else shape
            if mapped is not None:
                return np.ndarray(shape, dtype, buffer=mapped, offset=entry["offset"])
            arr = np.empty(shape, dtype)
            view = arr.reshape(-1).view(np.uint8)
            got = os.preadv(data.fileno(), [view], entry["offset"]) if view.nbytes else 0
            if got != entry["nbytes"]:
                raise SnapshotError(f"{group['data']} is truncated: read {got} of {entry['nbytes']} bytes")
            if xxhash.xxh3_128_hexdigest(view) != entry["xxh3"]:
                raise SnapshotError(f"checksum mismatch in {group['data']}: the snapshot is damaged")
            return arr

        with open(os.path.join(path, group["stream"]), "rb") as stream:
            raw = stream.read()
        if xxhash.xxh3_128_hexdigest(raw) != group["stream_xxh3"]:
            raise SnapshotError(f"checksum mismatch in {group['stream']}: the snapshot is damaged")
        import pickle

        with sp.LoadContext(read_entry) as ctx:
            values = pickle.loads(raw)
        if not use_mmap and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(data.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # the data now lives in the arrays
    return values, ctx.notes


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
