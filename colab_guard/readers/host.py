"""CPU and disk readings of the host the server runs on."""

from __future__ import annotations

import os
import shutil
from typing import Any

import psutil

from . import cgroup as cg


class CpuReader:
    """CPU use since the previous reading (psutil's non-blocking form), logical count and cgroup quota."""

    def __init__(self, cgroup_root: str = "/sys/fs/cgroup", proc_root: str = "/proc"):
        self._cgroup = cg.find_cgroup("cpu", cgroup_root, os.path.join(proc_root, "self"))
        psutil.cpu_percent(interval=None)  # prime: the first non-blocking call has no interval to measure

    def read(self) -> dict[str, Any]:
        quota = cg.read_cpu_quota(self._cgroup) if self._cgroup else None
        try:
            usable = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            usable = None
        return {
            "percent": psutil.cpu_percent(interval=None),
            "count": psutil.cpu_count(logical=True),
            "usable": usable,
            "quota": quota,
            "quota_source": f"cgroup-{self._cgroup.version}" if quota is not None and self._cgroup is not None else None,
        }


def disk_usage(path: str) -> dict[str, Any]:
    """Usage of the filesystem holding ``path``; a path not created yet reports its nearest parent's."""
    probe = os.path.abspath(os.path.expanduser(path))
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return {"path": path, "exists": False, "total": None, "used": None, "free": None, "error": str(exc)}
    return {
        "path": path,
        "exists": os.path.exists(path),
        "total": usage.total,
        "used": usage.used,
        "free": usage.free,
        "percent": round(100.0 * usage.used / usage.total, 2) if usage.total else None,
    }
