"""CPU and disk readings of the host the server runs on."""

from __future__ import annotations

import os
import shutil
import time
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


def oom_score(pid: int, proc_root: str = "/proc") -> int | None:
    """The OOM killer's badness for ``pid`` (higher is taken first), or None where unreadable."""
    try:
        with open(os.path.join(proc_root, str(pid), "oom_score")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


# Scheduler statistics are checked against the process's own CPU time once it used this share of a core.
CREDIBLE_FROM = 0.1


def thread_demand(pid: int, proc_root: str = "/proc") -> dict[int, int]:
    """Nanoseconds each thread of ``pid`` has spent running or waiting for a core (schedstat);
    {} where the kernel does not keep scheduler statistics (no file, or only zeros in it)."""
    out = {}
    task = os.path.join(proc_root, str(pid), "task")
    try:
        tids = os.listdir(task)
    except OSError:
        return {}
    for tid in tids:
        try:
            with open(os.path.join(task, tid, "schedstat")) as f:
                run, wait = f.read().split()[:2]
            out[int(tid)] = int(run) + int(wait)
        except (OSError, ValueError):
            continue
    # some kernels (and sandboxes) keep the file but never count: "0 0 1" for a thread that ran
    return out if any(out.values()) else {}


class ProcessCpu:
    """CPU of one process and of its children since the previous reading, in percent of one core.

    Two figures each: what it used (``cpu``), and how much of the time its busiest thread was
    running or waiting for a core (``cpu_demand``, from schedstat): a CPU-bound thread on a
    machine shared with others may get 40 % of a core while it wants all of it, and the demand
    says so. Children (data-loader workers) are added up: ``workers_cpu``, ``workers_demand``.
    """

    def __init__(self, pid: int | None = None, proc_root: str = "/proc") -> None:
        self.pid = os.getpid() if pid is None else pid
        self.proc_root = proc_root
        self.process = psutil.Process(self.pid)
        self._procs: dict[int, psutil.Process] = {}
        self._last: tuple[float, dict[int, float], dict[int, dict[int, int]]] | None = None
        try:
            self.cpus: int | None = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            self.cpus = os.cpu_count()

    def _used(self, proc: psutil.Process) -> float:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            if proc.pid != os.getpid():
                raise
            times = os.times()  # this process's own times need no /proc
        return float(times.user + times.system)

    def read(self, children: list[int] | None = None) -> dict[str, Any]:
        """One reading; ``children``: the child pids where the caller knows them (else looked up)."""
        now = time.monotonic()
        try:
            if children is None:
                children = [c.pid for c in self.process.children(recursive=True)]
        except psutil.Error:
            return {"cpu": None, "cpu_demand": None, "workers_cpu": None, "workers_demand": None, "workers": 0, "cpus": self.cpus}
        used: dict[int, float] = {}
        demand: dict[int, dict[int, int]] = {}
        for pid in [self.pid, *children]:
            proc = self._procs.get(pid) or (self.process if pid == self.pid else None)
            try:
                proc = proc or psutil.Process(pid)
                used[pid] = self._used(proc)
            except psutil.Error:
                continue
            self._procs[pid] = proc
            demand[pid] = thread_demand(pid, self.proc_root)
        self._procs = {pid: p for pid, p in self._procs.items() if pid in used}
        last, self._last = self._last, (now, used, demand)
        workers = len([pid for pid in used if pid != self.pid])
        out: dict[str, Any] = {"cpu": None, "cpu_demand": None, "workers_cpu": None, "workers_demand": None}
        out.update(workers=workers, cpus=self.cpus)
        if last is None or now - last[0] <= 0:
            return out
        wall = now - last[0]

        def usage(pid: int) -> float:
            return 100 * max(0.0, used[pid] - last[1].get(pid, used[pid])) / wall

        def wanted(pid: int) -> float | None:
            before = last[2].get(pid)
            if not demand.get(pid) or not before:
                return None
            deltas = [max(0, ns - before.get(tid, ns)) / 1e9 for tid, ns in demand[pid].items()]
            # run + wait can only exceed the CPU the process used; some kernels update schedstat
            # rarely or not at all for a thread that keeps running: then the demand is unknown
            ran = used[pid] - last[1].get(pid, used[pid])
            if ran > CREDIBLE_FROM * wall and sum(deltas) < ran / 2:
                return None
            return max(100 * d / wall for d in deltas)

        kids = [pid for pid in used if pid != self.pid]
        if self.pid in used:
            out["cpu"] = round(usage(self.pid), 1)
            mine = wanted(self.pid)
            out["cpu_demand"] = None if mine is None else round(min(mine, 100.0), 1)
        out["workers_cpu"] = round(sum(usage(pid) for pid in kids), 1)
        theirs = [wanted(pid) for pid in kids]
        known = [min(d, 100.0) for d in theirs if d is not None]
        out["workers_demand"] = round(sum(known), 1) if known or not kids else None
        return out


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
