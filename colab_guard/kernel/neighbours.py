"""Who in this container grows memory, and whom the out-of-memory killer would take.

The cgroup's working set counts every process in the container: two notebooks, a terminal, a
data-loader. A watcher that took all of its growth for its own kernel's would stop an innocent
notebook's cell. So as memory nears the warning level (once a second, five times past it) the
watcher reads the resident memory of each process in its cgroup (``cgroup.procs``; the user's
processes where that cannot be read), keeps the last ``WINDOW`` seconds, and tells which processes
grew in the current memory episode. The
kernel the OOM killer takes is the one with the highest ``/proc/<pid>/oom_score``, usually the
largest, whoever is growing.
"""

from __future__ import annotations

import collections
import os
import time
from dataclasses import dataclass

import psutil

from ..readers.host import oom_score

WINDOW = 30.0  # seconds of history: a memory episode's growth, however fast it came
# A process "grows in this episode" when it added this much at least, and at least this share of
# what the fastest-growing process added: a training loop's jitter is neither.
GROWER_BYTES = 64 << 20
GROWER_SHARE = 0.25
READ_EVERY = 1.0  # seconds between two readings of the container's processes
EPISODE_READ_EVERY = 0.2  # the same past the warning level, where a cell may be stopped on them
# An episode's growth counts from this long before memory crossed the warning level: what grew
# minutes ago (a model loaded before training) is not what fills memory now.
EPISODE_LEAD = 3.0


@dataclass(frozen=True)
class Grower:
    """One process's memory growth over the window."""

    pid: int
    growth: int
    rss: int


def container_pids(cgroup_path: str | None) -> list[int]:
    """The processes of this cgroup (v1 and v2 both list them in ``cgroup.procs``); the user's own
    processes where there is no cgroup to read."""
    if cgroup_path:
        try:
            with open(os.path.join(cgroup_path, "cgroup.procs")) as f:
                pids = [int(line) for line in f if line.strip().isdigit()]
            if pids:
                return pids
        except OSError:
            pass
    uid = os.getuid()
    out = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info.get("uids")
        if uids is not None and uids.real == uid:
            out.append(proc.pid)
    return out


def _rss(pid: int) -> int | None:
    """Resident memory of one process from /proc/<pid>/statm (cheaper than psutil's objects)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def process_name(pid: int) -> str:
    """A process as a user recognises it: its command line, shortened."""
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline()) or psutil.Process(pid).name()
    except psutil.Error:
        return f"process {pid}"
    return cmdline if len(cmdline) <= 60 else cmdline[:59] + "…"


class Neighbours:
    """The container's processes' memory over the last ``WINDOW`` seconds, with this kernel's own."""

    def __init__(self, own_pid: int | None = None, window: float = WINDOW):
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.window = window
        self.history: collections.deque[tuple[float, dict[int, int]]] = collections.deque()
        self._own_tree: tuple[float, set[int]] = (float("-inf"), {self.own_pid})
        self.since: float | None = None  # where this memory episode's growth counts from

    def begin_episode(self, now: float | None = None) -> None:
        """Memory crossed the warning level: count growth from a moment before it."""
        self.since = (time.monotonic() if now is None else now) - EPISODE_LEAD

    def end_episode(self) -> None:
        self.since = None

    def own_pids(self) -> set[int]:
        """This kernel and its children (data-loader workers count as the notebook's own memory)."""
        at, pids = self._own_tree
        if time.monotonic() - at >= READ_EVERY:
            try:
                pids = {self.own_pid, *(c.pid for c in psutil.Process(self.own_pid).children(recursive=True))}
            except psutil.Error:
                pids = {self.own_pid}
            self._own_tree = (time.monotonic(), pids)
        return pids

    def own_memory(self) -> int | None:
        """Resident memory of this kernel and its children, now."""
        sizes = [_rss(pid) for pid in self.own_pids()]
        known = [s for s in sizes if s is not None]
        return sum(known) if known else None

    def sample(self, cgroup_path: str | None, now: float | None = None, force: bool = False) -> bool:
        """Read every process's memory, at most once a second; returns whether it read."""
        now = time.monotonic() if now is None else now
        every = READ_EVERY if self.since is None else EPISODE_READ_EVERY
        if not force and self.history and now - self.history[-1][0] < every:
            return False
        sizes = {}
        for pid in container_pids(cgroup_path):
            rss = _rss(pid)
            if rss is not None:
                sizes[pid] = rss
        self.history.append((now, sizes))
        while self.history and now - self.history[0][0] > self.window:
            self.history.popleft()
        return True

    def _readings(self) -> list[tuple[float, dict[int, int]]]:
        """The readings of this episode (or of the window, outside one)."""
        return [r for r in self.history if self.since is None or r[0] >= self.since]

    def growers(self) -> list[Grower]:
        """Processes that grew over the episode, the largest growth first (this kernel's children are
        added to it, under its pid)."""
        readings = self._readings()
        if len(readings) < 2:
            return []
        own = self.own_pids()
        series: dict[int, list[int]] = collections.defaultdict(list)
        for _, sizes in readings:
            totals: dict[int, int] = collections.defaultdict(int)
            for pid, rss in sizes.items():
                totals[self.own_pid if pid in own else pid] += rss
            for pid, rss in totals.items():
                series[pid].append(rss)
        latest = self.history[-1][1]
        out = []
        for pid, values in series.items():
            if pid != self.own_pid and pid not in latest:
                continue  # gone
            growth = values[-1] - min(values)
            if growth > 0:
                out.append(Grower(pid, growth, values[-1]))
        return sorted(out, key=lambda g: -g.growth)

    def verdict(self) -> str:
        """Who grows memory in this episode: "here" (this kernel, among others maybe), "elsewhere"
        (another process, this kernel flat), "none" (no process grew), "unknown" (too few readings)."""
        if len(self._readings()) < 2:
            return "unknown"
        growers = [g for g in self.growers() if g.growth >= GROWER_BYTES]
        if not growers:
            return "none"
        mine = next((g.growth for g in growers if g.pid == self.own_pid), 0)
        return "here" if mine >= GROWER_SHARE * growers[0].growth else "elsewhere"

    def top_other(self) -> Grower | None:
        """The process other than this kernel that grew most, if it grew enough to matter."""
        return next((g for g in self.growers() if g.pid != self.own_pid and g.growth >= GROWER_BYTES), None)

    def oom_target(self) -> int | None:
        """The process of the container the OOM killer would take first (highest oom_score)."""
        latest = self.history[-1][1] if self.history else {}
        scores = [(score, pid) for pid in latest if (score := oom_score(pid)) is not None]
        return max(scores)[1] if scores else None
