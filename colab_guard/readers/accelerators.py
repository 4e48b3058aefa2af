"""Every kind of accelerator behind one protocol, and their readings combined in one place.

A reader of one kind of accelerator (NVIDIA GPUs through NVML, Cloud TPUs from their evidence)
answers ``read()`` with an ``AcceleratorReading``; ``Accelerators`` asks each and combines what
they found into the view the server's sampler and the kernel's ``%guard status`` both show. A new
kind (AMD GPUs through ROCm's SMI, say) is one new reader added to ``default_readers``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .nvml import GpuReader
from .tpu import detect_tpu

# TPU evidence (device files, variables) does not change while a runtime runs: read it this seldom.
TPU_REFRESH_SECONDS = 60.0


@dataclass
class AcceleratorReading:
    """What one reader found: its devices (each a dict with its ``kind``), and whether it could tell.

    ``status``: "ok", "none" (no such device), "no-driver" (its library or driver is missing) or
    "error"; ``notes`` are things a user should know (an old TPU variable still set, say).
    """

    status: str
    devices: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    driver_version: str | None = None


class AcceleratorReader(Protocol):
    """One kind of accelerator."""

    kind: str

    def read(self) -> AcceleratorReading: ...

    def shutdown(self) -> None: ...


class NvidiaGpus:
    """NVIDIA GPUs, through the one NVML boundary (``readers.nvml``)."""

    kind = "gpu"

    def __init__(self, reader: GpuReader | None = None):
        self.reader = reader or GpuReader()

    def read(self) -> AcceleratorReading:
        gpu = self.reader.read()
        return AcceleratorReading(gpu.status, gpu.gpus, gpu.error, [], gpu.driver_version)

    def shutdown(self) -> None:
        self.reader.shutdown()


class CloudTpus:
    """Cloud TPUs, from their device files and variables, read again once a minute at most."""

    kind = "tpu"

    def __init__(self, env: Mapping[str, str] | None = None, dev_root: str = "/dev", clock: Callable[[], float] = time.monotonic):
        self.env = os.environ if env is None else env
        self.dev_root, self.clock = dev_root, clock
        self._found: tuple[list[dict[str, Any]], list[str]] | None = None
        self._at = float("-inf")

    def read(self) -> AcceleratorReading:
        now = self.clock()
        if self._found is None or now - self._at >= TPU_REFRESH_SECONDS:
            self._found, self._at = detect_tpu(self.env, self.dev_root), now
        devices, notes = self._found
        return AcceleratorReading("ok" if devices else "none", list(devices), None, list(notes))

    def shutdown(self) -> None:
        return None


def default_readers(
    env: Mapping[str, str] | None = None, dev_root: str = "/dev", gpus: GpuReader | None = None
) -> list[AcceleratorReader]:
    """The readers of every kind of accelerator colab-guard knows."""
    return [NvidiaGpus(gpus), CloudTpus(env, dev_root)]


@dataclass
class AcceleratorsView:
    """Every accelerator found, with one status for them all: the first kind's failure where one
    failed, else "ok" where any kind found devices, else "no-driver" where a kind's driver is
    missing, else "none"."""

    accelerators: list[dict[str, Any]]
    status: str
    error: str | None
    notes: list[str]
    readings: dict[str, AcceleratorReading]  # by kind


def combine(readings: Mapping[str, AcceleratorReading]) -> AcceleratorsView:
    """The view of every kind's reading, in the readers' order."""
    devices = [device for reading in readings.values() for device in reading.devices]
    notes = [note for reading in readings.values() for note in reading.notes]
    failed = next((r for r in readings.values() if r.status not in ("ok", "none", "no-driver")), None)
    missing = next((r for r in readings.values() if r.status == "no-driver"), None)
    if failed is not None:
        status, error = failed.status, failed.error
    elif devices:
        status, error = "ok", None
    elif missing is not None:
        status, error = "no-driver", missing.error
    else:
        status, error = "none", None
    return AcceleratorsView(devices, status, error, notes, dict(readings))


class Accelerators:
    """Reads every kind of accelerator; one ``read()`` is one combined view."""

    def __init__(self, readers: Sequence[AcceleratorReader]):
        self.readers = list(readers)

    def read(self) -> AcceleratorsView:
        return combine({reader.kind: reader.read() for reader in self.readers})

    def shutdown(self) -> None:
        for reader in self.readers:
            reader.shutdown()
