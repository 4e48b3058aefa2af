"""Every setting of colab-guard, described once (``SETTINGS``), and the watcher's view of them.

The server's traits (``c.ColabGuard.NAME``), the ``COLAB_GUARD_NAME`` variables it hands the
kernels it starts, ``%guard config``, the admin's fixed settings and the docs' settings page are
all made from the table. The server fills ``WatcherSettings`` from its configuration and passes
``to_env()`` to each kernel; the kernel reads them back with ``from_env()``. Where no server
configures the kernel (Colab's hosted runtime), ``%guard config`` sets them from the notebook and
remembers them in a small JSON file (``settings_file``), which ``from_env`` reads as defaults
under the environment's values.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .channels import SETTINGS_FILE_VARIABLE, notebook_from_env, setting_variable
from .files import parse_json, write_json_atomic
from .ownership import SnapshotError, read_private
from .paths import drive_dir
from .setting_kinds import BOOL, HOURS, INT, NUMBER, PATH, RATES, SECONDS, SIZE, TEXT, Kind, check_rates


@dataclass(frozen=True)
class Range:
    """The numbers a setting allows: from ``low`` (or above it, where ``low_open``) to ``high``."""

    low: float
    high: float | None = None
    low_open: bool = False

    def holds(self, value: float) -> bool:
        """Whether ``value`` is in the range."""
        above = value > self.low if self.low_open else value >= self.low
        return above and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        return f"{'above' if self.low_open else 'at least'} {self.low:g}"


@dataclass(frozen=True)
class Setting:
    """One setting, described once: the server's trait, the kernel's variable, ``%guard config`` and
    the docs are made from this."""

    name: str
    kind: Kind
    default: Any
    help: str
    kernel: bool = False  # handed to the kernels the server starts (``env``), read by the watcher
    server: bool = True  # a ``c.ColabGuard.NAME`` trait of the server extension
    notebook: str = ""  # what it means in one line, where ``%guard config`` may set it from a notebook
    admin: bool = False  # a value an admin sets system-wide wins over the user's own (server/admin.py)
    bounds: Range | None = None  # the numbers allowed
    aliases: tuple[str, ...] = ()  # older names %guard config and remembered files still accept

    @property
    def env(self) -> str:
        """The environment variable that carries it to a kernel."""
        return setting_variable(self.name)

    def check(self, value: Any) -> None:
        """Raise ValueError where ``value`` is outside what this setting allows."""
        if self.kind is RATES:
            check_rates(value)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.bounds is not None and number and not self.bounds.holds(value):
            raise ValueError(f"{self.name} must be {self.bounds}, not {value:g}")


PERCENT = Range(0.0, 100.0, low_open=True)
POSITIVE = Range(0.0, low_open=True)
NOT_NEGATIVE = Range(0.0)

SETTINGS = (
    Setting(
        "sample_interval",
        NUMBER,
        1.0,
        """Seconds between two samples of memory, CPU, disks and
        accelerators. Every request is answered from the latest sample, so this, not the number of
        clients polling, sets the cost.""",
        bounds=Range(0.05, 3600.0),
    ),
    Setting(
        "memory_limit",
        SIZE,
        None,
        """The memory limit users must stay under, in bytes or with a
        unit ("12G", "12884901888"). Set it where the real limit is enforced outside this container
        (e.g. Colab's 12 GiB on a larger VM). colab-guard reports the smallest of this, the
        container's cgroup limit, the spawner's MEM_LIMIT and the host's RAM, and says which one it
        is.""",
        kernel=True,
        admin=True,
        notebook="the limit enforced outside this container (e.g. 12G), or none",
    ),
    Setting(
        "snapshot_dir",
        PATH,
        None,
        """Directory for variable snapshots. Defaults to
        $COLAB_GUARD_SNAPSHOT_DIR, else colab-guard/snapshots on a mounted Google Drive (Colab), else
        colab_guard/snapshots under the Jupyter data dir.""",
        kernel=True,
        admin=True,
        notebook="where snapshots go (e.g. a folder on Google Drive), or none for the default",
    ),
    Setting(
        "shared_heartbeats",
        BOOL,
        False,
        """A shared, read-only view of the kernels' heartbeats,
        for a machine whose users share GPUs: each kernel's heartbeat (its pid, notebook path, memory
        figures and whether it is busy) becomes readable by every user, and the GPU out-of-memory
        explanation names other users' kernels holding GPU memory. A heartbeat of another user counts
        only where it and its folders belong to that user alone and its pid is a process of theirs; it
        is JSON, never unpickled. Off (the default), colab-guard reads the current user's own
        heartbeats only. Snapshots stay private either way. Post-mortems and the previous-session
        scan always use the user's own.""",
        kernel=True,
        admin=True,
    ),
    Setting(
        "nvml_recording",
        PATH,
        None,
        """Testing and demos only: path to an NVML recording (made
        with `python -m colab_guard.readers.nvml`) to replay instead of the real NVIDIA driver, in the
        server and in its kernels.""",
        kernel=True,
    ),
    Setting(
        "nvml_retry_seconds",
        NUMBER,
        30.0,
        "Testing only: seconds to wait before initialising NVML again after it failed.",
        bounds=POSITIVE,
    ),
    Setting(
        "allow_private_network",
        BOOL,
        False,
        """Answer Chrome's Private Network Access preflight
        (a CORS preflight carrying `Access-Control-Request-Private-Network: true`) with
        `Access-Control-Allow-Private-Network: true`, so that a public site may call this server on
        localhost or a private address. Granted only to the origin named by ServerApp.allow_origin (or
        matched by ServerApp.allow_origin_pat), never for allow_origin = '*'; every request still
        needs the server's token. jupyter_server does not send this header, and Chrome refuses such
        requests without it. `colab-guard local-runtime` sets it, with allow_origin =
        'https://colab.research.google.com', for Colab's "Connect to a local runtime".""",
    ),
    Setting(
        "kernel_watcher",
        BOOL,
        True,
        """Load colab-guard's memory watcher (`--ext=colab_guard`)
        into the IPython kernels this server starts. It snapshots the variables before the OOM killer
        strikes and adds %guard.""",
        admin=True,
    ),
    Setting(
        "warn_percent",
        NUMBER,
        75.0,
        "Warn the user when the working set passes this percent of the limit.",
        kernel=True,
        admin=True,
        notebook="warn at this percent of the memory limit",
        bounds=PERCENT,
    ),
    Setting(
        "snapshot_percent",
        NUMBER,
        85.0,
        "Snapshot the kernel's variables when the working set passes this percent of the limit.",
        kernel=True,
        admin=True,
        notebook="snapshot the variables at this percent",
        bounds=PERCENT,
    ),
    Setting(
        "critical_percent",
        NUMBER,
        95.0,
        """Past this percent of the limit (and once the snapshot
        was taken or attempted) the watcher stops the running cell with a MemoryLimitInterrupt, so the
        kernel and its variables survive.""",
        kernel=True,
        admin=True,
        notebook="stop the running cell at this percent",
        bounds=PERCENT,
    ),
    Setting(
        "interrupt_cells",
        BOOL,
        True,
        "Let the watcher stop a runaway cell at critical_percent (a cell can opt out with %%guard off).",
        kernel=True,
        admin=True,
        notebook="stop a runaway cell at critical_percent (on/off)",
        aliases=("interrupt",),
    ),
    Setting(
        "hard_limit",
        BOOL,
        False,
        """Also keep each kernel's RLIMIT_DATA just above the memory the
        container can still give, so that a single allocation too large to fit (one np.ones(...)
        call, which no interruption can stop) fails with MemoryError instead of an OOM kill. Off by
        default: it counts virtual data mappings, and has not been checked with CUDA's or JAX's
        allocators (see the README).""",
        kernel=True,
        admin=True,
        notebook="RLIMIT_DATA at the remaining headroom (on/off, see the README)",
    ),
    Setting(
        "background_snapshots",
        BOOL,
        True,
        """Keep each kernel's snapshot current while it is idle
        after a cell ran (on a thread, throttled, stopped as soon as a cell starts), so that near the
        memory limit only what changed since is left to write.""",
        kernel=True,
        notebook="keep the snapshot current while the kernel is idle (on/off)",
        aliases=("background",),
    ),
    Setting(
        "keep_snapshots",
        INT,
        3,
        "Snapshots kept per notebook; older ones are deleted.",
        kernel=True,
        admin=True,
        notebook="snapshots kept per notebook",
        bounds=Range(1),
        aliases=("keep",),
    ),
    Setting(
        "idle_timeout",
        SECONDS,
        None,
        """Seconds of inactivity after which something outside this
        server ends the runtime, so the countdown can show it: the JupyterHub idle culler's --timeout
        (e.g. 3600), Colab's idle disconnect (about 5400 s on the free tier). 0: none. colab-guard only
        shows it unless `enforce` is set.""",
        kernel=True,
        admin=True,
        notebook="idle time after which something outside ends the runtime (e.g. 90m), 0 for none",
    ),
    Setting(
        "idle_check_interval",
        SECONDS,
        None,
        """Seconds between the checks of the outside idle
        culler that idle_timeout mirrors (jupyterhub-idle-culler's --cull-every; the Zero to JupyterHub
        chart's cull.every, 600 by default): it ends the runtime at its first check after the timeout,
        so the countdown is a window this wide. 0: unknown (the countdown is the earliest moment).""",
        admin=True,
    ),
    Setting(
        "max_lifetime",
        SECONDS,
        None,
        """Seconds after the server started at which the runtime is
        ended whatever it does: the JupyterHub idle culler's --max-age, Colab's maximum session (about
        43200 s on the free tier). 0: none.""",
        kernel=True,
        admin=True,
        notebook="the runtime's maximum lifetime (e.g. 12h, 43200), 0 for none",
    ),
    Setting(
        "enforce",
        BOOL,
        False,
        """Let colab-guard itself shut down kernels whose idle_timeout or
        max_lifetime countdown reached zero, after asking the kernel's watcher to snapshot the
        variables first.""",
        admin=True,
    ),
    Setting(
        "rates",
        RATES,
        {},
        """Hourly price of this runtime by accelerator name pattern, to show
        the cost so far, e.g. {"A100": {"rate": 1.18, "unit": "USD"}, "T4": {"rate": 1.96, "unit":
        "compute units"}, "TPU v2": {"rate": 1.76, "unit": "compute units"}}. The first pattern found
        in a GPU's or TPU's name applies (case-insensitive). No match: no cost figure.""",
        kernel=True,
        admin=True,
        notebook='hourly price by accelerator, e.g. T4:1.96:compute units,A100:1.18:USD, or {"T4": {"rate": 1.96}}',
    ),
    Setting(
        "weekly_accelerator_hours",
        HOURS,
        None,
        """A weekly budget of accelerator hours, to show
        the hours used over the last 7 days against it (from the usage log) and warn past 80 % of it.
        Colab's free tier allows roughly 30 GPU hours a week, but its limits are not published: this
        is your own budget, not a promise. 0: no budget (the hours are still shown).""",
        kernel=True,
        admin=True,
        notebook="weekly budget of accelerator hours (e.g. 30), 0 for none",
        aliases=("weekly_hours",),
    ),
    Setting(
        "low_utilization_threshold",
        NUMBER,
        10.0,
        "GPU utilisation (percent) under which time with GPU memory held counts as idle.",
        kernel=True,
        bounds=Range(0.0, 100.0),
    ),
    Setting(
        "low_utilization_minutes",
        NUMBER,
        10.0,
        "Minutes of low GPU utilisation before the advice appears.",
        kernel=True,
        bounds=NOT_NEGATIVE,
    ),
    Setting(
        "memory_trend_seconds",
        NUMBER,
        300.0,
        "Window (seconds) over which a steady memory growth is detected and projected to the limit.",
        bounds=POSITIVE,
    ),
    Setting("history_seconds", NUMBER, 3600.0, "How much sample history the sampler keeps for sparklines.", bounds=POSITIVE),
    Setting(
        "usage_log_interval",
        NUMBER,
        60.0,
        "Seconds between two lines of the resource-usage log (JSON lines); 0 turns the log off.",
        bounds=NOT_NEGATIVE,
    ),
    Setting("usage_log_max_bytes", INT, 5 << 20, "Size at which the usage log rotates (3 old files are kept).", bounds=Range(1)),
    Setting("usage_log_path", PATH, None, "The usage log; defaults to colab_guard/usage.jsonl in the Jupyter data dir."),
    Setting("cgroup_root", TEXT, "/sys/fs/cgroup", "Where the cgroup filesystems are mounted."),
    Setting("proc_root", TEXT, "/proc", "Where procfs is mounted."),
    Setting("dev_root", TEXT, "/dev", "Where device files are (TPU detection), for the server and its kernels.", kernel=True),
    # the kernel's own, set in its environment (tests, benchmarks) rather than by the server
    Setting(
        "interval",
        NUMBER,
        1.0,
        "Seconds between the watcher's memory readings below the warning level.",
        kernel=True,
        server=False,
        bounds=POSITIVE,
    ),
    Setting(
        "background_interval",
        NUMBER,
        30.0,
        """Seconds between two background snapshots at most (or
        ten times the last one's duration, if longer).""",
        kernel=True,
        server=False,
        bounds=NOT_NEGATIVE,
    ),
    Setting(
        "meter_interval",
        NUMBER,
        5.0,
        "Seconds between the kernel's accelerator and CPU readings.",
        kernel=True,
        server=False,
        bounds=POSITIVE,
    ),
    Setting(
        "server",
        TEXT,
        None,
        "The colab-guard server that started this kernel: its state file in the user's folder.",
        kernel=True,
        server=False,
    ),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
# what ``%guard config`` may set from a notebook, by every name it accepts
CONFIGURABLE = {name: s for s in SETTINGS if s.notebook for name in (s.name, *s.aliases)}


def setting(name: str) -> Setting:
    """The setting called ``name`` (or an older name of it); ValueError for any other name."""
    try:
        return BY_NAME.get(name) or CONFIGURABLE[name]
    except KeyError:
        raise ValueError(f"unknown setting {name!r}") from None


SETTINGS_FILE = "colab_guard_kernel.json"
MAX_SETTINGS_FILE = 1 << 16


def settings_file(env: Mapping[str, str] | None = None) -> str:
    """Where ``%guard config`` remembers settings: on Google Drive when it is mounted (it outlives a
    Colab runtime), else in the Jupyter config dir; ``COLAB_GUARD_SETTINGS_FILE`` overrides both."""
    env = os.environ if env is None else env
    if env.get(SETTINGS_FILE_VARIABLE):
        return os.path.abspath(os.path.expanduser(env[SETTINGS_FILE_VARIABLE]))
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
    if not isinstance(data, dict):
        return {}
    return {CONFIGURABLE[k].name: v for k, v in data.items() if k in CONFIGURABLE}  # under today's names


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


def parse_value(name: str, text: str) -> Any:
    """One setting's value from its text, strictly: a clear ValueError for anything malformed."""
    return setting(name).kind.parse(name, text)


def _defaults_from_table(cls: type[Any]) -> type[Any]:
    """Give each of the table's kernel settings annotated on ``cls`` its default from the table; a
    kernel setting left out, or a field the table does not know, is a TypeError at import."""
    annotated = set(cls.__annotations__) - set(vars(cls))  # fields without a default of their own
    kernel = {s.name for s in SETTINGS if s.kernel}
    if annotated != kernel:
        raise TypeError(f"{cls.__name__} and the settings table differ: {sorted(annotated ^ kernel)}")
    for name in kernel:
        default = BY_NAME[name].default
        setattr(cls, name, field(default_factory=default.copy) if isinstance(default, dict) else default)
    return cls


@dataclass
@_defaults_from_table
class WatcherSettings:
    """The settings of one kernel's watcher: the table's kernel settings (defaults from the table),
    then the watcher's own constants. Thresholds in percent of the real limit; intervals in seconds."""

    memory_limit: int | None
    snapshot_dir: str | None
    shared_heartbeats: bool
    nvml_recording: str | None
    warn_percent: float
    snapshot_percent: float
    critical_percent: float
    interrupt_cells: bool
    hard_limit: bool
    background_snapshots: bool
    keep_snapshots: int
    idle_timeout: float | None
    max_lifetime: float | None  # None: the environment's own (Colab: 12 hours), if known
    rates: dict[str, Any]
    weekly_accelerator_hours: float | None
    low_utilization_threshold: float
    low_utilization_minutes: float
    interval: float
    background_interval: float
    meter_interval: float
    server: str | None
    dev_root: str
    fast_interval: float = 0.1  # past the warning level
    critical_interval: float = 0.01  # past the snapshot level: memory can run out within 100 ms
    heartbeat_interval: float = 2.0
    background_idle: float = 2.0  # seconds of idleness before a background snapshot starts
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
        for each in (s for s in SETTINGS if s.kernel):
            variable = next((v for v in (each.env, *map(setting_variable, each.aliases)) if v in env), None)
            if variable:
                values[each.name] = each.kind.from_env(env[variable], values.get(each.name, each.default))
                sources[each.name] = f"environment ({variable})"
        values["notebook"] = notebook_from_env(env)
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
        return {
            s.env: s.kind.to_text(getattr(self, s.name))
            for s in SETTINGS
            if s.kernel and not s.kind.is_unset(getattr(self, s.name))
        }

    def source(self, name: str) -> str:
        """Where a setting's value came from."""
        return self.sources.get(name, "default")

    def validate(self) -> None:
        """Raise ValueError for a value out of its range, thresholds out of order, bad rates."""
        for each in SETTINGS:
            if each.kernel:
                each.check(getattr(self, each.name))
        if not 0 < self.warn_percent <= self.snapshot_percent <= self.critical_percent <= 100:
            raise ValueError(
                f"colab-guard thresholds must satisfy 0 < warn ({self.warn_percent}) <= snapshot "
                f"({self.snapshot_percent}) <= critical ({self.critical_percent}) <= 100"
            )
        if self.fast_interval <= 0:
            raise ValueError("colab-guard sampling intervals must be positive")

    def with_values(self, values: Mapping[str, Any]) -> WatcherSettings:
        """A validated copy with ``values`` applied (ValueError where they do not fit together)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(values)
        copy = WatcherSettings(**current)
        copy.validate()
        copy.sources = dict(self.sources)
        return copy
