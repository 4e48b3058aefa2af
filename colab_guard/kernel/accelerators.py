"""The kernel's own reading of its accelerators, on demand only (the watcher never touches NVML)."""

from __future__ import annotations

import os

from ..readers.nvml import GpuReader


def read_gpus():
    """One NVML reading, on demand only (the watcher never touches NVML); the server's recording
    (COLAB_GUARD_NVML_RECORDING, for tests and demos) stands in for the driver where it set one."""
    recording = os.environ.get("COLAB_GUARD_NVML_RECORDING")
    if recording:
        from ..readers.nvml_replay import ReplayNvml

        reader = GpuReader(ReplayNvml(recording))
    else:
        reader = GpuReader()
    try:
        return reader.read()
    finally:
        reader.shutdown()


def accelerators() -> list[dict]:
    reading = read_gpus()
    if reading.status != "ok":
        return [{"kind": "none", "status": reading.status, "error": reading.error}]
    return reading.gpus
