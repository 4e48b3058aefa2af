"""The panel's formats in the notebook: the same labels and formats as ``labextension/format/``, so
``%guard status`` and the JupyterLab panel say the same thing the same way."""

from __future__ import annotations

import math
import re
from typing import Any

from ..contract.units import NOT_AVAILABLE, UNITS, human_bytes, human_duration, in_unit, is_count, unit_of

format_duration = human_duration  # the name labextension/format/time.ts gives it


def format_bytes_pair(used: float | None, total: float | None, separator: str = "/") -> str:
    """Like "9.1/12.7 GiB", in the total's unit."""
    if not is_count(used) or not is_count(total):
        return f"{human_bytes(used)}{separator}{human_bytes(total)}"
    assert used is not None and total is not None
    unit = unit_of(total)
    return f"{in_unit(used, unit)}{separator}{in_unit(total, unit)} {UNITS[unit]}"


def format_byte_rate(bytes_per_second: float) -> str:
    """Like "12.0 MiB/min"."""
    per_minute = bytes_per_second * 60
    return f"{'-' if per_minute < 0 else ''}{human_bytes(abs(per_minute))}/min"


def format_percent(percent: float | None) -> str:
    """Like "72%", "<1%" for a little."""
    if not isinstance(percent, (int, float)) or not math.isfinite(percent):
        return NOT_AVAILABLE
    if 0 < percent < 1:
        return "<1%"
    return f"{round(percent)}%"


def limit_source_label(source: str | None) -> str:
    """Where the memory limit comes from, in words."""
    return {
        "cgroup-v2": "container limit",
        "cgroup-v1": "container limit",
        "env": "JupyterHub limit (MEM_LIMIT)",
        "config": "set by admin",
        "host": "host RAM",
    }.get(source or "", source or "unknown")


def short_gpu_name(name: str) -> str:
    """Like "Tesla T4" -> "T4"."""
    return re.sub(r"^(NVIDIA|Tesla)\s+", "", name, flags=re.IGNORECASE).strip() or name


def tpu_label(accelerator_type: str | None) -> str:
    """Like "TPU v2-8", or "TPU"."""
    return f"TPU {accelerator_type}" if accelerator_type else "TPU"


def _groups(accelerators: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    groups: list[list[Any]] = []
    for acc in accelerators:
        if acc.get("kind") == "gpu":
            label = acc.get("name") or "GPU"
            short = short_gpu_name(label)
        elif acc.get("kind") == "tpu":
            label = short = tpu_label(acc.get("accelerator_type"))
        else:
            continue
        for group in groups:
            if group[0] == label:
                group[2] += 1
                break
        else:
            groups.append([label, short, 1])
    return [(g[0], g[1], g[2]) for g in groups]


def accelerator_summary(accelerators: list[dict[str, Any]]) -> str:
    """Like "Tesla T4 x1", "NVIDIA A100-SXM4-40GB x2", "TPU v2-8", or "CPU only"."""
    groups = _groups(accelerators)
    if not groups:
        return "CPU only"
    return ", ".join(label if label.startswith("TPU") else f"{label} x{count}" for label, _, count in groups)


def accelerator_short_summary(accelerators: list[dict[str, Any]]) -> str:
    """Like "T4", "2× A100-SXM4-40GB", "CPU": the status bar's form."""
    groups = _groups(accelerators)
    if not groups:
        return "CPU"
    return ", ".join(f"{count}× {short}" if count > 1 else short for _, short, count in groups)


def accelerator_status_text(status: str | None) -> str | None:
    """Why no accelerator is listed; None where the probe went fine."""
    if status == "ok":
        return None
    return {
        "none": "No GPU or TPU found",
        "no-driver": "No NVIDIA driver found",
        "error": "Could not read the accelerators",
    }.get(status or "", f"Accelerator status: {status}" if status else None)


def format_countdown(seconds: float | None) -> str:
    """Like "82:10": minutes and seconds, a fraction of a second rounded up."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return NOT_AVAILABLE
    whole = max(0, math.ceil(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def format_money(amount: float | None, unit: str) -> str:
    """Like "1.23 USD", "0.0042 USD"."""
    if not isinstance(amount, (int, float)) or not math.isfinite(amount):
        return NOT_AVAILABLE
    if amount == 0 or abs(amount) >= 0.01:
        return f"{amount:.2f} {unit}"
    return f"{float(f'{amount:.2g}'):g} {unit}"


def cull_reason_text(reason: str | None) -> str:
    """What ends a kernel when its countdown runs out."""
    return {"idle-culling": "idle culling", "idle-timeout": "idle disconnect", "max-lifetime": "end of maximum lifetime"}.get(
        reason or "", (reason or "nothing").replace("-", " ")
    )


DISK_LABELS = {"root_dir": "Notebook directory", "snapshot_dir": "Snapshot directory"}
