"""Read the container's own cgroup (v1 or v2): memory limit, usage, working set, OOM kills, CPU quota.

Standard library only, so the kernel-side watcher can import it cheaply. Every path is relative to
an injectable ``cgroup_root`` and ``proc_self`` so tests can lay out file trees in a temporary dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

# cgroup v1 reports "no limit" as PAGE_COUNTER_MAX rounded to the page size (about 9.2e18);
# anything this large is no limit at all.
V1_UNLIMITED = 1 << 60


@dataclass(frozen=True)
class Cgroup:
    """One controller's directory for this process: ``version`` is "v1" or "v2"."""

    version: str
    path: str
    base: str  # the controller's mount point; limits are looked up from ``path`` up to here


@dataclass(frozen=True)
class CgroupMemory:
    """One reading of a memory cgroup. ``limit`` is None when nothing below the host limits it."""

    version: str
    path: str
    limit: int | None
    usage: int
    inactive_file: int
    working_set: int
    peak: int | None
    oom_kills: int | None


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _read_keyed(path: str) -> dict[str, int]:
    """Parse ``key value`` lines (memory.stat, memory.events, memory.oom_control)."""
    out: dict[str, int] = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out


def _own_cgroup_paths(proc_self: str) -> dict[str, str]:
    """Map each v1 controller (and "" for the v2 unified tree) to this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        text = _read(os.path.join(proc_self, "cgroup"))
    except OSError:
        return paths
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            paths[controller] = parts[2]
    return paths


def _join(base: str, rel: str) -> str:
    """The cgroup dir for ``rel`` under ``base``; in a cgroup namespace the mount *is* our cgroup."""
    candidate = os.path.normpath(os.path.join(base, rel.lstrip("/")))
    return candidate if os.path.isdir(candidate) else base


def _has_controller(unified: str, controller: str) -> bool:
    try:
        return controller in _read(os.path.join(unified, "cgroup.controllers")).split()
    except OSError:
        return False


def find_cgroup(controller: str, cgroup_root: str = "/sys/fs/cgroup", proc_self: str = "/proc/self") -> Cgroup | None:
    """Locate this process's cgroup for ``controller`` ("memory" or "cpu"), v2 first, then v1."""
    own = _own_cgroup_paths(proc_self)
    # cgroup v2 is either the whole tree (unified) or mounted under "unified" beside v1 (hybrid);
    # it only counts where it actually has the controller enabled.
    for unified in (cgroup_root, os.path.join(cgroup_root, "unified")):
        if _has_controller(unified, controller):
            return Cgroup("v2", _join(unified, own.get("", "/")), unified)
    v1_names = [controller, "cpu,cpuacct"] if controller == "cpu" else [controller]
    for name in v1_names:
        base = os.path.join(cgroup_root, name)
        if os.path.isdir(base):
            return Cgroup("v1", _join(base, own.get(controller, "/")), base)
    return None


def _ancestors(cgroup: Cgroup) -> Iterator[str]:
    """``path`` and each parent up to the mount point: a parent's limit binds the children too."""
    path = cgroup.path
    while True:
        yield path
        if os.path.normpath(path) == os.path.normpath(cgroup.base):
            return
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


def _v2_limit(cgroup: Cgroup, filename: str = "memory.max") -> int | None:
    limits: list[int] = []
    for path in _ancestors(cgroup):
        try:
            value = _read(os.path.join(path, filename)).strip()
        except OSError:
            continue  # the root cgroup has no memory.max
        if value != "max":
            limits.append(int(value))
    return min(limits) if limits else None


def read_memory(cgroup: Cgroup) -> CgroupMemory:
    """Read limit, usage and the working set the way kubelet computes it (usage - inactive_file).

    Raises OSError if the cgroup's files cannot be read (e.g. the cgroup vanished).
    """

    def join(name: str) -> str:
        return os.path.join(cgroup.path, name)

    if cgroup.version == "v2":
        usage = int(_read(join("memory.current")))
        stat = _read_keyed(join("memory.stat"))
        inactive = stat.get("inactive_file", 0)
        limit = _v2_limit(cgroup)
        peak = _optional_int(join("memory.peak"))
        oom_kills = _optional_keyed(join("memory.events"), "oom_kill")
    else:
        usage = int(_read(join("memory.usage_in_bytes")))
        stat = _read_keyed(join("memory.stat"))
        inactive = stat.get("total_inactive_file", stat.get("inactive_file", 0))
        # hierarchical_memory_limit already folds in every ancestor's limit.
        limits = [int(_read(join("memory.limit_in_bytes"))), stat.get("hierarchical_memory_limit", V1_UNLIMITED)]
        limit = min(limits)
        limit = None if limit >= V1_UNLIMITED else limit
        peak = _optional_int(join("memory.max_usage_in_bytes"))
        oom_kills = _optional_keyed(join("memory.oom_control"), "oom_kill")
    return CgroupMemory(
        version=cgroup.version,
        path=cgroup.path,
        limit=limit,
        usage=usage,
        inactive_file=inactive,
        working_set=max(0, usage - inactive),
        peak=peak,
        oom_kills=oom_kills,
    )


def read_cpu_quota(cgroup: Cgroup) -> float | None:
    """The CPU quota in cores (e.g. 2.0), or None where no quota is set."""
    try:
        if cgroup.version == "v2":
            quotas: list[float] = []
            for path in _ancestors(cgroup):
                try:
                    fields = _read(os.path.join(path, "cpu.max")).split()
                except OSError:
                    continue
                if len(fields) == 2 and fields[0] != "max":
                    quotas.append(int(fields[0]) / int(fields[1]))
            return min(quotas) if quotas else None
        quota = int(_read(os.path.join(cgroup.path, "cpu.cfs_quota_us")))
        period = int(_read(os.path.join(cgroup.path, "cpu.cfs_period_us")))
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def _optional_int(path: str) -> int | None:
    try:
        return int(_read(path))
    except (OSError, ValueError):
        return None


def _optional_keyed(path: str, key: str) -> int | None:
    try:
        return _read_keyed(path).get(key)
    except OSError:
        return None
