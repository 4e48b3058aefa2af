"""The memory limit that really applies to this runtime, and how close the working set is to it.

Shared by the server's sampler and the kernel-side watcher. Standard library only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..contract.units import parse_size
from . import cgroup as cg

# Where each candidate limit comes from, in the order that wins a tie.
SOURCES = ("config", "cgroup-v2", "cgroup-v1", "env", "host")


def read_meminfo(proc_root: str = "/proc") -> dict[str, int]:
    """/proc/meminfo in bytes (its figures are in KiB)."""
    out = {}
    with open(os.path.join(proc_root, "meminfo")) as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields:
                out[key] = int(fields[0]) * (1024 if fields[1:2] == ["kB"] else 1)
    return out


@dataclass(frozen=True)
class MemoryReading:
    """Host figures from /proc/meminfo; ``limit`` and ``working_set`` are what the OOM killer counts."""

    total: int
    used: int
    available: int
    limit: int
    limit_source: str
    working_set: int
    usage: int
    headroom: int
    percent: float
    cgroup: dict[str, Any] | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MemoryReader:
    """Reads the effective memory limit and working set; the cgroup is located once and cached."""

    def __init__(
        self,
        cgroup_root: str = "/sys/fs/cgroup",
        proc_root: str = "/proc",
        env: Mapping[str, str] | None = None,
        config_limit: int | None = None,
    ):
        self.cgroup_root = cgroup_root
        self.proc_root = proc_root
        self.env = os.environ if env is None else env
        self.config_limit = config_limit
        self._cgroup: cg.Cgroup | None = None
        self._membership: str | None = None  # /proc/self/cgroup when the cgroup was located

    def _locate(self) -> cg.Cgroup | None:
        """This process's memory cgroup, located again only when its membership changes."""
        proc_self = os.path.join(self.proc_root, "self")
        try:
            with open(os.path.join(proc_self, "cgroup")) as f:
                membership = f.read()
        except OSError:
            membership = ""
        if membership != self._membership:
            self._cgroup = cg.find_cgroup("memory", self.cgroup_root, proc_self)
            self._membership = membership
        return self._cgroup

    def env_limit(self) -> int | None:
        value = self.env.get("MEM_LIMIT")
        if not value:
            return None
        try:
            return parse_size(value) or None
        except ValueError:
            return None

    def read(self) -> MemoryReading:
        """One reading. A cgroup that cannot be read is reported in ``error``, never raised."""
        info = read_meminfo(self.proc_root)
        total = info["MemTotal"]
        available = info.get("MemAvailable", info.get("MemFree", 0))
        error = None
        group = self._locate()
        mem = None
        if group is not None:
            try:
                mem = cg.read_memory(group)
            except (OSError, ValueError) as exc:
                error = f"cannot read the {group.version} memory cgroup {group.path}: {exc}"
                self._membership = None  # look again next time: the cgroup may have moved

        candidates = [("config", self.config_limit)]
        if mem is not None:
            candidates.append((f"cgroup-{mem.version}", mem.limit))
        candidates += [("env", self.env_limit()), ("host", total)]
        # The smallest limit is the one the user hits first; ties go to the more specific source.
        limit, source = min(((v, SOURCES.index(s), s) for s, v in candidates if v))[0::2]

        if mem is not None:
            working_set, usage = mem.working_set, mem.usage
        else:
            working_set = usage = total - available
        return MemoryReading(
            total=total,
            used=total - available,
            available=available,
            limit=limit,
            limit_source=source,
            working_set=working_set,
            usage=usage,
            headroom=max(0, limit - working_set),
            percent=round(100.0 * working_set / limit, 2),
            cgroup=None
            if mem is None
            else {"version": mem.version, "path": mem.path, "limit": mem.limit, "oom_kills": mem.oom_kills, "peak": mem.peak},
            error=error,
        )
