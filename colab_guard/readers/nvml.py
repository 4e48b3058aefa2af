"""The one boundary to NVIDIA's NVML: every NVML call colab-guard makes is in this module.

``GpuReader`` initialises NVML once, caches the device handles and turns each poll into plain
dicts. Any object with pynvml's API can stand in for the library (``colab_guard.readers.nvml_replay``
replays recorded readings), so the rest of colab-guard never touches pynvml directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# How long to wait before trying nvmlInit again after it failed: loading a missing driver
# library is cheap but pointless to repeat on every one-second sample.
DEFAULT_RETRY_SECONDS = 30.0
# NVML measures PCIe throughput over 20 ms per query, so it is read at most this often; the
# readings in between repeat the last figures.
PCIE_SECONDS = 5.0


@dataclass
class GpuReading:
    """``status``: "ok", "none" (no GPU), "no-driver" (NVML library/driver missing) or "error"."""

    status: str
    gpus: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    driver_version: str | None = None


def _load_pynvml() -> Any:
    import pynvml  # provided by the nvidia-ml-py distribution

    return pynvml


def _call(nvml: Any, fn: str, *args: Any, default: Any = None) -> Any:
    """One optional NVML query: unsupported fields (no power sensor in a VM...) become ``default``."""
    try:
        return getattr(nvml, fn)(*args)
    except nvml.NVMLError as exc:
        if _is_device_lost(nvml, exc):
            raise
        return default


def _is_device_lost(nvml: Any, exc: Exception) -> bool:
    lost = {
        getattr(nvml, name, None)
        for name in ("NVML_ERROR_GPU_IS_LOST", "NVML_ERROR_UNINITIALIZED", "NVML_ERROR_DRIVER_NOT_LOADED")
    }
    return getattr(exc, "value", None) in lost


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class GpuReader:
    """Reads every NVIDIA GPU through NVML; never raises, the failure is in the reading's status."""

    def __init__(
        self, nvml: Any = None, retry_seconds: float = DEFAULT_RETRY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._nvml = nvml
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._handles: list[Any] | None = None
        self._driver_version: str | None = None
        self._failure: GpuReading | None = None
        self._failed_at = 0.0
        self._pcie: dict[int, tuple[int | None, int | None]] = {}
        self._pcie_at = float("-inf")

    def _init(self) -> GpuReading | None:
        """Initialise NVML and cache handles; returns a failed reading where that is impossible."""
        if self._handles is not None:
            return None
        if self._failure is not None and self._clock() - self._failed_at < self._retry_seconds:
            return self._failure
        try:
            if self._nvml is None:
                self._nvml = _load_pynvml()
        except ImportError as exc:
            return self._fail(GpuReading("no-driver", error=f"the nvidia-ml-py package is not installed ({exc})"))
        nvml = self._nvml
        try:
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
            self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._driver_version = _text(_call(nvml, "nvmlSystemGetDriverVersion", default="")) or None
        except nvml.NVMLError as exc:
            self._handles = None
            code = getattr(exc, "value", None)
            if code in (getattr(nvml, "NVML_ERROR_LIBRARY_NOT_FOUND", None), getattr(nvml, "NVML_ERROR_DRIVER_NOT_LOADED", None)):
                message = f"no NVIDIA driver: {exc} (no NVIDIA GPU on this machine, or its driver is not installed)"
                return self._fail(GpuReading("no-driver", error=message))
            return self._fail(GpuReading("error", error=f"NVML failed to initialise: {exc}"))
        self._failure = None
        return None

    def _fail(self, reading: GpuReading) -> GpuReading:
        self._failure, self._failed_at = reading, self._clock()
        return reading

    def read(self) -> GpuReading:
        """One reading of every GPU. A GPU that falls off the bus makes the next read re-initialise."""
        failed = self._init()
        if failed is not None:
            return failed
        if not self._handles:
            return GpuReading("none", driver_version=self._driver_version)
        gpus, errors = [], []
        pcie_due = self._clock() - self._pcie_at >= PCIE_SECONDS
        if pcie_due:
            self._pcie_at = self._clock()
        for index, handle in enumerate(self._handles):
            try:
                gpus.append(self._read_device(index, handle, pcie_due))
            except self._nvml.NVMLError as exc:
                errors.append(f"GPU {index}: {exc}")
        if errors:
            self.shutdown()  # handles may be stale (GPU lost, driver reloaded): start afresh next time
            return GpuReading("error", gpus, "; ".join(errors), self._driver_version)
        return GpuReading("ok", gpus, None, self._driver_version)

    def _read_device(self, index: int, handle: Any, pcie_due: bool = True) -> dict[str, Any]:
        nvml = self._nvml
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)  # required: a device that cannot say this is lost
        if pcie_due or index not in self._pcie:
            # KB/s over the last 20 ms; RX is what the GPU receives (host to device). None where unsupported.
            rx = _call(nvml, "nvmlDeviceGetPcieThroughput", handle, getattr(nvml, "NVML_PCIE_UTIL_RX_BYTES", 1))
            tx = _call(nvml, "nvmlDeviceGetPcieThroughput", handle, getattr(nvml, "NVML_PCIE_UTIL_TX_BYTES", 0))
            self._pcie[index] = (None if rx is None else rx * 1024, None if tx is None else tx * 1024)
        util = _call(nvml, "nvmlDeviceGetUtilizationRates", handle)
        power = _call(nvml, "nvmlDeviceGetPowerUsage", handle)
        power_limit = _call(nvml, "nvmlDeviceGetEnforcedPowerLimit", handle)
        processes = []
        for kind, fn in (
            ("compute", "nvmlDeviceGetComputeRunningProcesses"),
            ("graphics", "nvmlDeviceGetGraphicsRunningProcesses"),
        ):
            for proc in _call(nvml, fn, handle, default=[]) or []:
                used = getattr(proc, "usedGpuMemory", None)
                processes.append({"pid": proc.pid, "used_memory": used, "type": kind})
        return {
            "kind": "gpu",
            "index": index,
            "name": _text(nvml.nvmlDeviceGetName(handle)),
            "uuid": _text(_call(nvml, "nvmlDeviceGetUUID", handle, default="")) or None,
            "memory_total": memory.total,
            "memory_used": memory.used,
            "utilization_gpu": None if util is None else util.gpu,
            "utilization_memory": None if util is None else util.memory,
            "temperature_c": _call(nvml, "nvmlDeviceGetTemperature", handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0)),
            "power_draw_w": None if power is None else power / 1000.0,
            "power_limit_w": None if power_limit is None else power_limit / 1000.0,
            "pcie_rx": self._pcie[index][0],
            "pcie_tx": self._pcie[index][1],
            "processes": processes,
        }

    def shutdown(self) -> None:
        """Release NVML; the next read initialises it again."""
        if self._handles is not None:
            self._handles = None
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001 - shutting down a lost device may fail too; nothing to do
                pass


def record(nvml: Any = None) -> dict[str, Any]:
    """Record NVML's raw answers on a real GPU machine, for ``nvml_replay`` to play back in tests.

    ``python -m colab_guard.readers.nvml > box.json`` on the GPU machine writes one recording.
    """
    nvml = nvml or _load_pynvml()

    def answer(fn: str, *args: Any) -> Any:
        try:
            value = getattr(nvml, fn)(*args)
        except nvml.NVMLError as exc:
            return {"nvml_error": exc.value}
        if isinstance(value, list):
            return [{"pid": p.pid, "usedGpuMemory": getattr(p, "usedGpuMemory", None)} for p in value]
        if hasattr(value, "total"):
            return {"total": value.total, "used": value.used, "free": value.free}
        if hasattr(value, "gpu"):
            return {"gpu": value.gpu, "memory": value.memory}
        return _text(value) if isinstance(value, (bytes, str)) else value

    nvml.nvmlInit()
    try:
        devices = []
        for i in range(nvml.nvmlDeviceGetCount()):
            h = nvml.nvmlDeviceGetHandleByIndex(i)
            devices.append(
                {
                    "name": answer("nvmlDeviceGetName", h),
                    "uuid": answer("nvmlDeviceGetUUID", h),
                    "memory": answer("nvmlDeviceGetMemoryInfo", h),
                    "utilization": answer("nvmlDeviceGetUtilizationRates", h),
                    "temperature": answer("nvmlDeviceGetTemperature", h, nvml.NVML_TEMPERATURE_GPU),
                    "power_usage": answer("nvmlDeviceGetPowerUsage", h),
                    "enforced_power_limit": answer("nvmlDeviceGetEnforcedPowerLimit", h),
                    "compute_processes": answer("nvmlDeviceGetComputeRunningProcesses", h),
                    "graphics_processes": answer("nvmlDeviceGetGraphicsRunningProcesses", h),
                    "pcie_rx": answer("nvmlDeviceGetPcieThroughput", h, nvml.NVML_PCIE_UTIL_RX_BYTES),
                    "pcie_tx": answer("nvmlDeviceGetPcieThroughput", h, nvml.NVML_PCIE_UTIL_TX_BYTES),
                }
            )
        return {
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "driver_version": answer("nvmlSystemGetDriverVersion"),
            "devices": devices,
        }
    finally:
        nvml.nvmlShutdown()


if __name__ == "__main__":
    import json

    print(json.dumps(record(), indent=2))
