"""One background sampler per server: takes every reading on an interval, handlers serve the latest.

Readings (cgroup files, NVML, statvfs) block, so they run on a daemon thread, never on the
server's event loop. Each sample is serialised once; a hundred polling tabs cost one sample.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

import psutil

from ..readers.accelerators import Accelerators
from ..readers.environment import detect_environment
from ..readers.host import CpuReader, ProcessCpu, disk_usage
from ..readers.memory import MemoryReader
from ..usage.cost import CostMeter
from .history import History
from .usage_log import UsageLog

# Kernels' process trees are measured this often: enough for a panel, cheap with 50 kernels.
KERNEL_SAMPLE_SECONDS = 5.0

log = logging.getLogger(__name__)


class Sampler:
    """Samples memory, CPU, disks and accelerators every ``interval`` seconds on its own thread."""

    def __init__(
        self,
        memory: MemoryReader,
        cpu: CpuReader,
        accelerators: Accelerators,
        disk_paths: Mapping[str, str],
        interval: float = 1.0,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        history: History | None = None,
        meter: CostMeter | None = None,
        usage_log: UsageLog | None = None,
    ):
        self.memory, self.cpu, self.accelerators = memory, cpu, accelerators
        self.history = history or History(3600, interval)
        self.meter = meter or CostMeter()
        self.usage_log = usage_log
        # kernel id -> pid, set from the event loop; the sampler measures each kernel's process tree
        self.kernel_pids: dict[str, int] = {}
        # kernel id -> execution state ("busy", "idle"...), set from the event loop with the pids
        self.kernel_states: dict[str, str | None] = {}
        self.kernel_usage: dict[str, dict] = {}
        self._cpu: dict[int, ProcessCpu] = {}  # kept between samples: CPU is measured between two
        self.host = socket.gethostname()
        try:
            self.cpus: int | None = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            self.cpus = os.cpu_count()
        self._last_t: float | None = None
        self._kernels_at = float("-inf")
        self.disk_paths = dict(disk_paths)
        self.interval = interval
        self.clock = clock
        self.environment = detect_environment(env)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples_taken = 0
        self.latest: dict = {}
        self.latest_json: bytes = b"{}"

    def sample(self) -> dict:
        """Take one full sample and publish it as ``latest`` / ``latest_json``."""
        found = self.accelerators.read()
        gpu = found.readings["gpu"]
        payload = {
            "timestamp": self.clock(),
            "sample_interval": self.interval,
            "environment": self.environment,
            "host": {
                "memory": _guarded(lambda: self.memory.read().to_dict()),
                "cpu": _guarded(self.cpu.read),
                "disk": {name: disk_usage(path) for name, path in self.disk_paths.items()},
            },
            "accelerators": found.accelerators,
            "accelerator_status": found.status,
            "accelerator_error": found.error,
            "gpu_status": gpu.status,
            "gpu_driver_version": gpu.driver_version,
            "notes": found.notes,
        }
        self.latest, self.latest_json = payload, json.dumps(payload).encode()
        self.samples_taken += 1
        self._account(payload)
        return payload

    def _account(self, payload: dict) -> None:
        """Per-sample bookkeeping: history, cost time, kernels' memory, the usage log."""
        now = payload["timestamp"]
        memory = payload["host"]["memory"]
        gpus = [a for a in payload["accelerators"] if a.get("kind") == "gpu"]
        self.history.add(now, memory.get("working_set"), memory.get("limit"), gpus)
        if now - self._kernels_at >= KERNEL_SAMPLE_SECONDS or set(self.kernel_pids) != set(self.kernel_usage):
            self.kernel_usage = kernel_tree_usage(dict(self.kernel_pids), gpus, self._cpu)
            self._kernels_at = now
        if self._last_t is not None:
            dt = max(0.0, min(now - self._last_t, 10 * self.interval))
            self.meter.add(dt, payload["accelerators"], self.activity() if gpus else None)
        self._last_t = now
        if self.usage_log is not None:
            record = {
                "t": round(now, 1),
                "working_set": memory.get("working_set"),
                "limit": memory.get("limit"),
                "cpu_percent": payload["host"]["cpu"].get("percent"),
                "interval": self.usage_log.interval,
                "host": self.host,
                "accelerators": [a.get("name") or a.get("kind") for a in payload["accelerators"]],
                "gpus": [{"name": g["name"], "util": g["utilization_gpu"], "mem": g["memory_used"]} for g in gpus],
                "kernels": {kid: u["rss"] for kid, u in self.kernel_usage.items()},
            }
            try:
                self.usage_log.maybe_write(now, record)
            except OSError as exc:
                log.warning("colab-guard: cannot write the usage log: %s", exc)

    def activity(self) -> dict:
        """What the kernels do, for the diagnosis of an idle GPU: the kernel holding the most GPU memory
        (else a busy one, else any), whether it runs a cell, its CPU and its workers'."""
        states = dict(self.kernel_states)
        usage = dict(self.kernel_usage)
        if not states:
            return {"kernels": 0}

        def rank(kernel_id: str) -> tuple:
            u = usage.get(kernel_id, {})
            return (u.get("gpu_memory") or 0, states.get(kernel_id) == "busy")

        focus = max(states, key=rank)
        u = usage.get(focus, {})
        return {
            "kernels": len(states),
            "executing": states.get(focus) == "busy",
            "cpu": u.get("cpu"),
            "cpu_demand": u.get("cpu_demand"),
            "workers_cpu": u.get("workers_cpu"),
            "workers_demand": u.get("workers_demand"),
            "workers": u.get("workers", 0),
            "held": u.get("gpu_memory") or None,
            "cpus": self.cpus,
        }

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:
                log.exception("colab-guard: sampling failed")

    def start(self) -> None:
        """Take the first sample now (so the first request has data), then sample in the background."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.sample()
        self._thread = threading.Thread(target=self._run, name="colab-guard-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and release NVML."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.accelerators.shutdown()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def kernel_tree_usage(kernel_pids: dict[str, int], gpus: list[dict], cpu: dict[int, ProcessCpu] | None = None) -> dict[str, dict]:
    """RSS of each kernel's whole process tree, the GPU memory NVML counts for those pids, and CPU.

    One pass over the process table serves every kernel (psutil's children() would scan it once
    per kernel: with 50 kernels that alone cost several percent of a core). CPU (the kernel
    process and its children apart, used and wanted: ``readers.host.ProcessCpu``) is measured
    since the previous call, through the ``cpu`` readers kept between calls; None at the first.
    """
    if not kernel_pids:
        return {}
    cpu = {} if cpu is None else cpu
    children: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        children.setdefault(proc.info["ppid"], []).append(proc.pid)
    gpu_by_pid: dict[int, int] = {}
    for g in gpus:
        for p in g.get("processes", []):
            gpu_by_pid[p["pid"]] = gpu_by_pid.get(p["pid"], 0) + (p.get("used_memory") or 0)
    out = {}
    for kernel_id, root in kernel_pids.items():
        tree, todo = [], [root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        rss, alive = 0, []
        for pid in tree:
            try:
                rss += psutil.Process(pid).memory_info().rss
                alive.append(pid)
            except psutil.Error:
                continue
        try:
            reader = cpu.get(root) or cpu.setdefault(root, ProcessCpu(root))
            load = reader.read(children=[pid for pid in alive if pid != root])
        except psutil.Error:
            load = {}
        out[kernel_id] = {
            "rss": rss if alive and rss else None,  # null until really measured, never a fake 0
            "gpu_memory": sum(gpu_by_pid.get(pid, 0) for pid in alive) if gpus else None,
            "pids": sorted(alive),
            **{k: load.get(k) for k in ("cpu", "cpu_demand", "workers_cpu", "workers_demand")},
            "workers": len([pid for pid in alive if pid != root]),
        }
    for root in set(cpu) - set(kernel_pids.values()):
        del cpu[root]
    return out


def _guarded(read: Callable[[], dict]) -> dict:
    """A reading, or ``{"error": ...}`` where its source cannot be read (the payload still comes back)."""
    try:
        return read()
    except (OSError, ValueError, KeyError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
