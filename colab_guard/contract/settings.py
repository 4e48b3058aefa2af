"""The watcher's settings: the one description of what the server hands to the kernels it starts.

The server fills ``WatcherSettings`` from its configuration and passes ``to_env()`` to each kernel
as ``COLAB_GUARD_*`` variables; the kernel reads them back with ``from_env()``. Where no server
configures the kernel (Colab's hosted runtime), ``%guard config`` sets them from the notebook and
remembers them in a small JSON file (``settings_file``), which ``from_env`` reads as defaults
under the environment's values.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .files import parse_json, write_json_atomic
from .ownership import SnapshotError, read_private
from .paths import drive_dir
from .units import parse_size

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
    "rates": ("COLAB_GUARD_RATES", "rates"),
    "max_lifetime": ("COLAB_GUARD_MAX_LIFETIME", "seconds"),
    "idle_timeout": ("COLAB_GUARD_IDLE_TIMEOUT", "seconds"),
    "weekly_hours": ("COLAB_GUARD_WEEKLY_HOURS", "hours"),
    "low_utilization_threshold": ("COLAB_GUARD_LOW_UTILIZATION_THRESHOLD", float),
    "low_utilization_minutes": ("COLAB_GUARD_LOW_UTILIZATION_MINUTES", float),
    "meter_interval": ("COLAB_GUARD_METER_INTERVAL", float),
    # the colab-guard server that started this kernel: its state file in the user's folder
    "server": ("COLAB_GUARD_SERVER", str),
}

# What ``%guard config`` may set from a notebook, with what it means (its help line).
CONFIGURABLE = {
    "warn_percent": "warn at this percent of the memory limit",
    "snapshot_percent": "snapshot the variables at this percent",
    "critical_percent": "stop the running cell at this percent",
    "interrupt": "stop a runaway cell at critical_percent (on/off)",
    "hard_limit": "RLIMIT_DATA at the remaining headroom (on/off, see the README)",
    "background": "keep the snapshot current while the kernel is idle (on/off)",
    "keep": "snapshots kept per notebook",
    "memory_limit": "the limit enforced outside this container (e.g. 12G), or none",
    "snapshot_dir": "where snapshots go (e.g. a folder on Google Drive), or none for the default",
    "rates": 'hourly price by accelerator, e.g. T4:1.96:compute units,A100:1.18:USD, or {"T4": {"rate": 1.96}}',
    "max_lifetime": "the runtime's maximum lifetime (e.g. 12h, 43200), 0 for none",
    "idle_timeout": "idle time after which something outside ends the runtime (e.g. 90m), 0 for none",
    "weekly_hours": "weekly budget of accelerator hours (e.g. 30), 0 for none",
}

SETTINGS_FILE = "colab_guard_kernel.json"
MAX_SETTINGS_FILE = 1 << 16


def settings_file(env: Mapping[str, str] | None = None) -> str:
    """Where ``%guard config`` remembers settings: on Google Drive when it is mounted (it outlives a
    Colab runtime), else in the Jupyter config dir; ``COLAB_GUARD_SETTINGS_FILE`` overrides both."""
    env = os.environ if env is None else env
    if env.get("COLAB_GUARD_SETTINGS_FILE"):
        return os.path.abspath(os.path.expanduser(env["COLAB_GUARD_SETTINGS_FILE"]))
    drive = drive_dir(env)
    if os.path.isdir(drive):
        return os.path.join(drive, "colab-guard", SETTINGS_FILE)
    config_dir = env.get("JUPYTER_CONFIG_DIR")
    if not config_dir:
        from jupyter_core.paths import jupyter_config_dir  # both processes run with jupyter_core

        config_dir = jupyter_config_dir()
    return os.path.join(config_dir, SETTINGS_FILE)


def read_remembered(path: str) -> dict[str, Any]:
    """The remembered settings (text values as the user typed them); {} where there are none.

    Only from a file of the current user's that no one else can write: it may name the snapshot dir.
    """
    try:
        data = parse_json(read_private(path, MAX_SETTINGS_FILE))
    except FileNotFoundError:
        return {}
    return {k: v for k, v in data.items() if k in CONFIGURABLE} if isinstance(data, dict) else {}


def remember(path: str, values: Mapping[str, Any], forget: tuple[str, ...] = ()) -> dict[str, Any]:
    """Add ``values`` to the remembered settings (and drop ``forget``); returns what is remembered now."""
    try:
        current = read_remembered(path)
    except (OSError, ValueError):
        current = {}
    current.update(values)
    for name in forget:
        current.pop(name, None)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    write_json_atomic(path, current)
    return current


def parse_rates(text: str) -> dict[str, dict[str, Any]]:
    """Rates as JSON ({"T4": {"rate": 1.96, "unit": "compute units"}}) or ``T4:1.96:compute units,A100:1.18``."""
    text = text.strip()
    if not text or text.lower() == "none":
        return {}
    if text.startswith("{"):
        rates = parse_json(text)
    else:
        rates = {}
        for item in text.split(","):
            parts = [p.strip() for p in item.split(":")]
            if len(parts) not in (2, 3) or not parts[0]:
                raise ValueError(f"rates: {item.strip()!r} is not PATTERN:RATE or PATTERN:RATE:UNIT (e.g. T4:1.96:compute units)")
            try:
                rate = float(parts[1])
            except ValueError:
                raise ValueError(f"rates: {parts[1]!r} in {item.strip()!r} is not a number") from None
            rates[parts[0]] = {"rate": rate, "unit": parts[2] if len(parts) == 3 and parts[2] else "USD"}
    check_rates(rates)
    return dict(rates)


def check_rates(rates: object) -> None:
    """Raise ValueError unless ``rates`` maps patterns to {"rate": non-negative number, "unit": text}."""
    if not isinstance(rates, dict):
        raise ValueError(f"rates must map accelerator name patterns to rates, not {rates!r}")
    for pattern, rate in rates.items():
        if not isinstance(rate, dict) or not isinstance(rate.get("rate"), (int, float)) or not 0 <= rate["rate"] < math.inf:
            raise ValueError(f'rates[{pattern!r}] must be {{"rate": <hourly number>, "unit": "..."}}, not {rate!r}')


_DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_seconds(text: str) -> float | None:
    """``43200``, ``12h``, ``90m``, ``1.5h``; 0 or "none" means no such limit (None)."""
    value = text.strip().lower()
    if value in ("", "none", "off", "0"):
        return None
    number = value.rstrip("smhdin")
    unit = value[len(number) :] or "s"
    if unit not in _DURATION_UNITS:
        raise ValueError(f"{text!r} is not a duration (seconds, or a number with s, m, h or d: 90m, 12h)")
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (seconds, or a number with s, m, h or d: 90m, 12h)") from None
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {text!r}")
    return seconds or None


def parse_value(name: str, text: str) -> Any:
    """One setting's value from its text, strictly: a clear ValueError for anything malformed."""
    value = _parse_text(name, text)
    if isinstance(value, float) and not math.isfinite(value):  # "nan" and "inf" parse as floats
        raise ValueError(f"{name} must be a finite number, not {str(text).strip()!r}")
    return value


def _parse_text(name: str, text: str) -> Any:
    if name not in ENV:
        raise ValueError(f"unknown setting {name!r}")
    kind = ENV[name][1]
    text = str(text).strip()
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name} is on or off, not {text!r}")
    if kind == "size":
        return None if text.lower() in ("", "none", "0") else parse_size(text)
    if kind == "rates":
        return parse_rates(text)
    if kind == "seconds":
        return parse_seconds(text)
    if kind == "hours":
        if text.lower() in ("", "none", "0"):
            return None
        hours = float(text.rstrip("hH"))
        if hours < 0:
            raise ValueError(f"{name} cannot be negative: {text!r}")
        return hours
    if kind is str:
        return None if text.lower() in ("", "none") else os.path.abspath(os.path.expanduser(text))
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        raise ValueError(f"{name} is a number, not {text!r}") from None


def _parse(kind: object, text: str, default: object) -> object:
    """One variable's value; a malformed one keeps the default, as a kernel must still start."""
    if kind is bool:
        return text.strip().lower() not in ("0", "false", "no", "off", "")
    if kind == "size":
        return parse_size(text) if text else None
    if kind is str:
        return text or None
    if kind == "rates":
        try:
            return parse_rates(text)
        except ValueError:
            return default
    try:
        if kind in ("seconds", "hours"):
            return float(text) or None
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
    # hourly price by accelerator name pattern, as ColabGuard.rates: {"T4": {"rate": 1.96, "unit": "..."}}
    rates: dict[str, Any] = field(default_factory=dict)
    max_lifetime: float | None = None  # None: the environment's own (Colab: 12 hours), if known
    idle_timeout: float | None = None
    weekly_hours: float | None = None  # a weekly budget of accelerator hours
    low_utilization_threshold: float = 10.0  # GPU percent under which time with memory held is idle
    low_utilization_minutes: float = 10.0  # of it before the advice
    meter_interval: float = 5.0  # seconds between the kernel's accelerator and CPU readings
    server: str | None = None
    notebook: str | None = None
    # where each setting came from: "default", "environment (VAR)", "remembered (PATH)", "this kernel"
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, remembered: bool = True) -> WatcherSettings:
        """Settings the server passes to the kernels it starts (COLAB_GUARD_* variables), over the
        settings ``%guard config`` remembered (``settings_file``), over the defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        if remembered:
            path = settings_file(env)
            try:
                saved = read_remembered(path)
            except (OSError, ValueError, SnapshotError):  # unreadable or not the user's alone: %guard config says why
                saved = {}
            for name, text in saved.items():
                try:
                    values[name] = parse_value(name, text if isinstance(text, str) else json.dumps(text))
                    sources[name] = f"remembered ({path})"
                except ValueError:
                    continue
        for name, (variable, kind) in ENV.items():
            if variable in env:
                values[name] = _parse(kind, env[variable], values.get(name, getattr(cls, name, None)))
                sources[name] = f"environment ({variable})"
        values["notebook"] = env.get("JPY_SESSION_NAME") or env.get("COLAB_GUARD_NOTEBOOK") or None
        settings = cls(**values)
        try:
            settings.validate()
        except ValueError:
            if not any(s.startswith("remembered") for s in sources.values()):
                raise
            # remembered values that no longer fit with the environment's: the environment wins
            settings = cls.from_env(env, remembered=False)
            sources = dict(settings.sources, **{"remembered": "ignored: it conflicts with the environment's settings"})
        settings.sources = sources
        return settings

    def to_env(self) -> dict[str, str]:
        """The ``COLAB_GUARD_*`` variables that ``from_env`` reads back; unset values are left out."""
        env = {}
        for name, (variable, kind) in ENV.items():
            value = getattr(self, name)
            if value is None or (kind in ("size", "rates") and not value):
                continue
            if kind is bool:
                env[variable] = "1" if value else "0"
            elif kind == "rates":
                env[variable] = json.dumps(value)
            else:
                env[variable] = str(value)
        return env

    def source(self, name: str) -> str:
        """Where a setting's value came from."""
        return self.sources.get(name, "default")

    def validate(self) -> None:
        """Raise ValueError for thresholds out of order, intervals that are not positive, bad rates."""
        if not 0 < self.warn_percent <= self.snapshot_percent <= self.critical_percent <= 100:
            raise ValueError(
                f"colab-guard thresholds must satisfy 0 < warn ({self.warn_percent}) <= snapshot "
                f"({self.snapshot_percent}) <= critical ({self.critical_percent}) <= 100"
            )
        if self.interval <= 0 or self.fast_interval <= 0 or self.meter_interval <= 0:
            raise ValueError("colab-guard sampling intervals must be positive")
        if self.keep < 1:
            raise ValueError(f"colab-guard keeps at least 1 snapshot per notebook, not {self.keep}")
        check_rates(self.rates)

    def with_values(self, values: Mapping[str, Any]) -> WatcherSettings:
        """A validated copy with ``values`` applied (ValueError where they do not fit together)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(values)
        copy = WatcherSettings(**current)
        copy.validate()
        copy.sources = dict(self.sources)
        return copy
