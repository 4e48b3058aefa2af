"""The kernel's accelerator meter: cost, why the GPU sits idle, and the week's accelerator hours.

Where no colab-guard server watches the runtime (Colab's hosted runtime), the kernel does: on a
thread of its own, every ``meter_interval`` seconds (5), it reads the GPUs through NVML (the
memory watcher never does), whether a cell is running and this kernel's CPU and its workers'
(child processes: data-loader workers). From these it accounts the time at low GPU utilisation,
diagnoses the cause (``usage.diagnosis``) and, once per run of it, tells the notebook. While an
accelerator is attached, and no colab-guard server keeps a usage log, it appends a line a minute
to the user's accelerator log. On a machine with neither GPU nor TPU it reads once and stops.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from ..contract.accelerator_log import append_accelerator_line
from ..contract.ownership import SnapshotError
from ..contract.settings import WatcherSettings
from ..readers.accelerators import CloudTpus
from ..readers.host import ProcessCpu
from ..readers.nvml import GpuReader, GpuReading
from ..usage.cost import CostMeter, low_utilization_warning
from .accelerators import gpu_reader

LOG_INTERVAL = 60.0


class AcceleratorMeter:
    """Meters the accelerators on a daemon thread; see the module's docstring."""

    def __init__(
        self,
        settings: WatcherSettings,
        snapshot_dir: Callable[[], str],
        cell_state: Callable[[], dict[str, Any]],
        notify: Callable[[str, str], None] = lambda level, message: None,
        reader: GpuReader | None = None,
    ):
        self.settings = settings
        self.snapshot_dir = snapshot_dir
        self.cell_state = cell_state
        self.notify = notify
        self.reader = reader
        self.cost = CostMeter(settings.low_utilization_threshold)
        self.cpu = ProcessCpu()
        self.started = time.time()
        self.gpu: GpuReading | None = None
        self.tpus: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.told = False  # one message per run of low utilisation
        self.last_error: str | None = None
        self._last_t: float | None = None
        self._logged_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def accelerators(self) -> list[dict[str, Any]]:
        return (self.gpu.gpus if self.gpu is not None else []) + self.tpus

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="colab-guard-meter", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        self._thread = None
        if self.reader is not None:
            self.reader.shutdown()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        tpus = CloudTpus(dev_root=self.settings.dev_root).read()  # evidence that does not change while it runs
        self.tpus, self.notes = tpus.devices, tpus.notes
        if self.reader is None:
            self.reader = gpu_reader()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as exc:  # noqa: BLE001 - the meter must outlive any one bad reading
                self.last_error = f"{type(exc).__name__}: {exc}"
            if not self.accelerators:
                return  # CPU only: nothing to meter (a GPU does not appear in a running runtime)
            self._stop.wait(self.settings.meter_interval)

    def step(self, now: float | None = None) -> None:
        """One reading: account it, diagnose, log."""
        now = time.time() if now is None else now
        assert self.reader is not None
        self.gpu = self.reader.read()
        state = self.cell_state()
        activity = {
            **self.cpu.read(),
            "executing": bool(state.get("executing")),
            "idle_since": state.get("idle_since"),
            "idle_seconds": None if state.get("executing") or not state.get("idle_since") else now - state["idle_since"],
        }
        dt = 0.0 if self._last_t is None else min(now - self._last_t, 10 * self.settings.meter_interval)
        self._last_t = now
        self.cost.threshold = self.settings.low_utilization_threshold
        self.cost.add(dt, self.accelerators, activity)
        if self.cost.low_streak == 0:
            self.told = False
        elif not self.told:
            warning = self.low_utilization()
            if warning is not None:
                self.told = True
                self.notify("warning", warning["message"])
        # a colab-guard server keeps its own usage log (and counts the hours from it)
        if self.accelerators and not self.settings.server and now - self._logged_at >= LOG_INTERVAL:
            self._logged_at = now
            self.log_line(now)

    def log_line(self, now: float) -> None:
        names = [a.get("name") or a.get("kind", "?") for a in self.accelerators]
        record = {"t": round(now, 1), "interval": LOG_INTERVAL, "host": socket.gethostname(), "accelerators": names}
        try:
            append_accelerator_line(self.snapshot_dir(), record)
        except (OSError, ValueError, SnapshotError) as exc:
            self.last_error = f"accelerator log: {exc}"

    def low_utilization(self) -> dict[str, Any] | None:
        """The low-utilisation warning once its run is long enough, as the server's advice words it."""
        return low_utilization_warning(self.cost, self.settings.low_utilization_minutes)
