"""The watcher's settings: the one description of what the server hands to the kernels it starts.

The server fills ``WatcherSettings`` from its configuration and passes ``to_env()`` to each kernel
as ``COLAB_GUARD_*`` variables; the kernel reads them back with ``from_env()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..readers.memory import parse_size

# setting -> (environment variable, kind); the kernel's own variables come from jupyter_server
ENV = {
    "warn_percent": ("COLAB_GUARD_WARN_PERCENT", float),
    "snapshot_percent": ("COLAB_GUARD_SNAPSHOT_PERCENT", float),
    "critical_percent": ("COLAB_GUARD_CRITICAL_PERCENT", float),
    "interrupt": ("COLAB_GUARD_INTERRUPT", bool),
    "hard_limit": ("COLAB_GUARD_HARD_LIMIT", bool),
    "interval": ("COLAB_GUARD_INTERVAL", float),
    "background": ("COLAB_GUARD_BACKGROUND", bool),
    "background_interval": ("COLAB_GUARD_BACKGROUND_INTERVAL", float),
    "keep": ("COLAB_GUARD_KEEP", int),
    "memory_limit": ("COLAB_GUARD_MEMORY_LIMIT", "size"),
    "snapshot_dir": ("COLAB_GUARD_SNAPSHOT_DIR", str),
    "shared_heartbeats": ("COLAB_GUARD_SHARED_HEARTBEATS", bool),
}


def _parse(kind: object, text: str, default: object) -> object:
    """One variable's value; a malformed number keeps the default, as a kernel must still start."""
    if kind is bool:
        return text.strip().lower() not in ("0", "false", "no", "off", "")
    if kind == "size":
        return parse_size(text) if text else None
    if kind is str:
        return text or None
    try:
        return int(float(text)) if kind is int else float(text)
    except ValueError:
        return default


@dataclass
class WatcherSettings:
    """Thresholds in percent of the real limit; intervals in seconds."""

    warn_percent: float = 75.0
    snapshot_percent: float = 85.0
    critical_percent: float = 95.0
    interrupt: bool = True  # stop the running cell past critical_percent
    # Keep RLIMIT_DATA just above what the container can still give, so that one allocation too big
    # to fit fails with MemoryError instead of summoning the OOM killer. Off by default: see README.
    hard_limit: bool = False
    interval: float = 1.0
    fast_interval: float = 0.1  # past the warning level
    critical_interval: float = 0.01  # past the snapshot level: memory can run out within 100 ms
    heartbeat_interval: float = 2.0
    # keep the snapshot current while the kernel is idle after a cell ran (off the main thread)
    background: bool = True
    background_idle: float = 2.0  # seconds of idleness before it starts
    background_interval: float = 30.0  # at most one per this, or per ten times the last one's duration
    keep: int = 3
    memory_limit: int | None = None
    snapshot_dir: str | None = None
    # let every user read this kernel's heartbeat, and read theirs, to name kernels holding a shared GPU
    shared_heartbeats: bool = False
    notebook: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WatcherSettings:
        """Settings the server passes to the kernels it starts (COLAB_GUARD_* variables)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (variable, kind) in ENV.items():
            if variable in env:
                values[name] = _parse(kind, env[variable], getattr(cls, name, None))
        values["notebook"] = env.get("JPY_SESSION_NAME") or env.get("COLAB_GUARD_NOTEBOOK") or None
        settings = cls(**values)
        settings.validate()
        return settings

    def to_env(self) -> dict[str, str]:
        """The ``COLAB_GUARD_*`` variables that ``from_env`` reads back; unset values are left out."""
        env = {}
        for name, (variable, kind) in ENV.items():
            value = getattr(self, name)
            if value is None or (kind == "size" and not value):
                continue
            env[variable] = ("1" if value else "0") if kind is bool else str(value)
        return env

    def validate(self) -> None:
        """Raise ValueError for thresholds out of order or intervals that are not positive."""
        if not 0 < self.warn_percent <= self.snapshot_percent <= self.critical_percent <= 100:
            raise ValueError(
                f"colab-guard thresholds must satisfy 0 < warn ({self.warn_percent}) <= snapshot "
                f"({self.snapshot_percent}) <= critical ({self.critical_percent}) <= 100"
            )
        if self.interval <= 0 or self.fast_interval <= 0:
            raise ValueError("colab-guard sampling intervals must be positive")
