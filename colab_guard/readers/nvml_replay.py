"""Play back NVML readings recorded with ``python -m colab_guard.readers.nvml`` through pynvml's own API.

Used by the tests and benchmarks (no GPU there) and by the ``ColabGuard.nvml_recording`` setting
for demos. Errors are raised as pynvml's real exception classes, so the reader's error paths are
the ones a real driver exercises. ``fail_with`` simulates a GPU falling off the bus mid-run.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pynvml


class ReplayNvml:
    """A stand-in for the ``pynvml`` module that answers from a recording."""

    NVMLError = pynvml.NVMLError

    def __init__(self, recording: dict[str, Any] | str) -> None:
        if isinstance(recording, str):
            with open(recording) as f:
                recording = cast("dict[str, Any]", json.load(f))
        self.recording = recording
        self.init_error: int | None = recording.get("init_error")
        self.fail_with: int | None = None  # an NVML error code every device query raises while set
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        if name.startswith("NVML_"):
            return getattr(pynvml, name)  # constants are the real ones
        raise AttributeError(name)

    def _answer(self, value: Any) -> Any:
        self.calls += 1
        if self.fail_with is not None:
            raise pynvml.NVMLError(self.fail_with)
        if isinstance(value, dict) and "nvml_error" in value:
            raise pynvml.NVMLError(value["nvml_error"])
        return value

    def nvmlInit(self) -> None:
        self.calls += 1
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.calls += 1

    def nvmlSystemGetDriverVersion(self) -> Any:
        return self._answer(self.recording.get("driver_version", ""))

    def nvmlDeviceGetCount(self) -> int:
        return len(self._answer(self.recording["devices"]))

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        self._answer(None)
        return self.recording["devices"][index]

    def nvmlDeviceGetName(self, h: dict[str, Any]) -> Any:
        return self._answer(h["name"])

    def nvmlDeviceGetUUID(self, h: dict[str, Any]) -> Any:
        return self._answer(h["uuid"])

    def nvmlDeviceGetMemoryInfo(self, h: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(**self._answer(h["memory"]))

    def nvmlDeviceGetUtilizationRates(self, h: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(**self._answer(h["utilization"]))

    def nvmlDeviceGetTemperature(self, h: dict[str, Any], sensor: int) -> Any:
        return self._answer(h["temperature"])

    def nvmlDeviceGetPowerUsage(self, h: dict[str, Any]) -> Any:
        return self._answer(h["power_usage"])

    def nvmlDeviceGetEnforcedPowerLimit(self, h: dict[str, Any]) -> Any:
        return self._answer(h["enforced_power_limit"])

    def nvmlDeviceGetPcieThroughput(self, h: dict[str, Any], counter: int) -> Any:
        """KB/s as recorded; recordings made before the counters were recorded say "not supported"."""
        key = "pcie_rx" if counter == pynvml.NVML_PCIE_UTIL_RX_BYTES else "pcie_tx"
        return self._answer(h.get(key, {"nvml_error": pynvml.NVML_ERROR_NOT_SUPPORTED}))

    def nvmlDeviceGetComputeRunningProcesses(self, h: dict[str, Any]) -> list[SimpleNamespace]:
        return [SimpleNamespace(**p) for p in self._answer(h.get("compute_processes", []))]

    def nvmlDeviceGetGraphicsRunningProcesses(self, h: dict[str, Any]) -> list[SimpleNamespace]:
        return [SimpleNamespace(**p) for p in self._answer(h.get("graphics_processes", []))]
