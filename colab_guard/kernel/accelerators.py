"""The kernel's reading of its accelerators, on demand or by the meter (the memory watcher never touches NVML)."""

from __future__ import annotations

import os

from ..contract.settings import setting
from ..readers.nvml import GpuReader, GpuReading


def gpu_reader() -> GpuReader:
    """An NVML reader; the server's recording (its ``nvml_recording`` setting, for tests and demos)
    stands in for the driver where it set one."""
    recording = os.environ.get(setting("nvml_recording").env)
    if recording:
        from ..readers.nvml_replay import ReplayNvml

        return GpuReader(ReplayNvml(recording))
    return GpuReader()


def read_gpus() -> GpuReading:
    """One NVML reading, on demand."""
    reader = gpu_reader()
    try:
        return reader.read()
    finally:
        reader.shutdown()
