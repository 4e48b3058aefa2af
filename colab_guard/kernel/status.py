"""``%guard status``: everything the kernel can know about its runtime, as one dict.

The same facts as the JupyterLab panel: the accelerator (GPUs, TPUs with the retired-TPU-Node
note), memory against the real limit with the projected time to it, the disks of the notebook
folder and the snapshot folder, the runtime's age against its maximum lifetime, the idle
disconnect, cost and advice, the week's accelerator hours, memory by cell and the latest snapshot.
Where the kernel's server runs colab-guard, its countdowns, cost and advice come from it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ..contract.accelerator_log import read_accelerator_lines
from ..contract.manifests import SnapshotError
from ..contract.paths import on_drive
from ..contract.server_state import ServerState
from ..readers.accelerators import Accelerators, default_readers
from ..readers.environment import detect_environment
from ..readers.host import disk_usage
from ..usage.hours import accelerator_hours, with_budget
from ..usage.trend import project_time_to_limit
from . import runtime
from .accelerators import gpu_reader

if TYPE_CHECKING:
    from .guard import Guard


def accelerator_view(dev_root: str) -> dict[str, Any]:
    """Every kind of accelerator, with the status and notes the panel shows."""
    accelerators = Accelerators(default_readers(dev_root=dev_root, gpus=gpu_reader()))
    try:
        found = accelerators.read()
    finally:
        accelerators.shutdown()
    return {
        "accelerators": found.accelerators,
        "accelerator_status": found.status,
        "accelerator_error": found.error,
        "notes": found.notes,
    }


def memory_view(guard: Guard) -> dict[str, Any]:
    """The working set against the real limit, and when it reaches it at the present climb."""
    reading = guard.watcher.reader.read()
    out: dict[str, Any] = reading.to_dict()
    samples = list(guard.watcher.samples)
    projection = project_time_to_limit([t for t, _ in samples], [w for _, w in samples], reading.limit)
    out["projection"] = (
        None
        if projection is None
        else {"seconds": round(projection.seconds), "bytes_per_second": round(projection.bytes_per_second), "r2": projection.r2}
    )
    return out


def disks(snapshot_dir: str) -> dict[str, dict[str, Any]]:
    """The notebook folder (the kernel's working directory: /content on Colab) and the snapshot folder."""
    out = {}
    for key, path in (("root_dir", os.getcwd()), ("snapshot_dir", snapshot_dir)):
        usage = disk_usage(path)
        usage["google_drive"] = on_drive(path)
        out[key] = usage
    return out


def hours_view(guard: Guard, server: ServerState | None, attached: bool) -> dict[str, Any] | None:
    """Accelerator hours over the last 7 days against the weekly budget: the server's, else the kernels' own log."""
    served = server["accelerator_hours"] if server is not None else None
    if served is not None:
        return {**served, "source": "the colab-guard server's usage log"}
    lines = read_accelerator_lines(guard.snapshot_dir)
    if not lines and not attached:
        return None
    hours = with_budget(accelerator_hours(lines), guard.settings.weekly_accelerator_hours)
    return {**hours, "source": "the accelerator log kernels keep in your snapshot folder"}


def gather(guard: Guard) -> dict[str, Any]:
    """The status of this kernel's runtime, as ``StatusView`` shows it."""
    now = time.time()
    settings = guard.settings
    environment = detect_environment()
    server = runtime.server_state(settings, guard.snapshot_dir, now)
    acc = accelerator_view(settings.dev_root)
    identity = guard.identity
    try:
        snaps = guard.snapshots()
    except SnapshotError:
        snaps = []
    attached = any(a.get("kind") in ("gpu", "tpu") for a in acc["accelerators"])
    life = runtime.lifetime(settings, environment["kind"], server, now)
    if server is not None:
        cost = server.get("cost")
        warnings: list[dict[str, Any]] = [dict(w) for w in server["warnings"]]
    else:
        cost = guard.meter.cost.payload(settings.rates, acc["accelerators"], seconds=life["age"])
        if cost is not None:
            cost["hours_from"] = life["started_how"]
            cost["low_utilization_measured_seconds"] = round(guard.meter.cost.seconds)
        low = guard.meter.low_utilization()
        warnings = [low] if low else []
    hours = hours_view(guard, server, attached)
    if hours and hours.get("warning"):
        warnings.append({"kind": "accelerator-hours", "message": hours["warning"]})
    return {
        "time": now,
        "environment": environment,
        "notebook": {
            "key": guard.files.notebook,
            "name": identity.name,
            "source": identity.source,
            "known": identity.known,
        },
        "memory": memory_view(guard),
        **acc,
        "disks": disks(guard.snapshot_dir),
        "runtime": life,
        "idle": runtime.idle(
            settings, environment["kind"], server, identity.kernel_id, guard.watcher.cell_state.get("idle_since"), now
        ),
        "server": None if server is None else {"age": server["age"], "pid": server.get("pid")},
        "cost": cost,
        "warnings": warnings,
        "accelerator_hours": hours,
        "cells": [c.to_dict() for c in guard.cells.recent()[-5:]],
        "watching": guard.watcher.running,
        "warn_percent": settings.warn_percent,
        "snapshot_percent": settings.snapshot_percent,
        "critical_percent": settings.critical_percent,
        "snapshot_dir": guard.snapshot_dir,
        "latest_snapshot": None
        if not snaps
        else {k: snaps[0][k] for k in ("id", "created", "created_ts", "variables", "skipped")},
    }
