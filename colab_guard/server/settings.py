"""Every setting of colab-guard's server extension, validated as it is set (``c.ColabGuard.*``)."""

from __future__ import annotations

import os
import socket

from traitlets import Bool, Dict, Float, Int, TraitError, Unicode, Union, default, validate
from traitlets.config import Configurable

from ..contract.paths import default_snapshot_dir
from ..contract.settings import WatcherSettings
from ..contract.units import parse_size
from ..readers.nvml import DEFAULT_RETRY_SECONDS


class ColabGuardSettings(Configurable):
    """The settings of ``ColabGuard``; the extension app inherits them, so they read ``c.ColabGuard.NAME``."""

    sample_interval = Float(
        1.0,
        help="""Seconds between two samples of memory, CPU, disks and accelerators. Every request is
        answered from the latest sample, so this, not the number of clients polling, sets the cost.""",
    ).tag(config=True)

    memory_limit = Union(
        [Int(), Unicode()],
        default_value=None,
        allow_none=True,
        help="""The memory limit users must stay under, in bytes or with a unit ("12G", "12884901888").
        Set it where the real limit is enforced outside this container (e.g. Colab's 12 GiB on a larger
        VM). colab-guard reports the smallest of this, the container's cgroup limit, the spawner's
        MEM_LIMIT and the host's RAM, and says which one it is.""",
    ).tag(config=True)

    snapshot_dir = Unicode(
        help="""Directory for variable snapshots. Defaults to $COLAB_GUARD_SNAPSHOT_DIR, else
        colab-guard/snapshots on a mounted Google Drive (Colab), else colab_guard/snapshots under the
        Jupyter data dir.""",
    ).tag(config=True)

    shared_heartbeats = Bool(
        False,
        help="""A shared, read-only view of the kernels' heartbeats, for a machine whose users share
        GPUs: each kernel's heartbeat (its pid, notebook path, memory figures and whether it is busy)
        becomes readable by every user, and the GPU out-of-memory explanation names other users'
        kernels holding GPU memory. A heartbeat of another user counts only where it and its folders
        belong to that user alone and its pid is a process of theirs; it is JSON, never unpickled.
        Off (the default), colab-guard reads the current user's own heartbeats only. Snapshots stay
        private either way. Post-mortems and the previous-session scan always use the user's own.""",
    ).tag(config=True)

    nvml_recording = Unicode(
        "",
        help="""Testing and demos only: path to an NVML recording (made with `python -m
        colab_guard.readers.nvml`) to replay instead of the real NVIDIA driver.""",
    ).tag(config=True)

    nvml_retry_seconds = Float(
        DEFAULT_RETRY_SECONDS,
        help="""Testing only: seconds to wait before initialising NVML again after it failed.""",
    ).tag(config=True)

    allow_private_network = Bool(
        False,
        help="""Answer Chrome's Private Network Access preflight (a CORS preflight carrying
        `Access-Control-Request-Private-Network: true`) with `Access-Control-Allow-Private-Network: true`,
        so that a public site may call this server on localhost or a private address. Granted only to
        the origin named by ServerApp.allow_origin (or matched by ServerApp.allow_origin_pat), never
        for allow_origin = '*'; every request still needs the server's token. jupyter_server does not
        send this header, and Chrome refuses such requests without it. `colab-guard local-runtime`
        sets it, with allow_origin = 'https://colab.research.google.com', for Colab's "Connect to a
        local runtime".""",
    ).tag(config=True)

    kernel_watcher = Bool(
        True,
        help="""Load colab-guard's memory watcher (`--ext=colab_guard`) into the IPython kernels this
        server starts. It snapshots the variables before the OOM killer strikes and adds %guard.""",
    ).tag(config=True)

    warn_percent = Float(75.0, help="Warn the user when the working set passes this percent of the limit.").tag(config=True)
    snapshot_percent = Float(
        85.0, help="Snapshot the kernel's variables when the working set passes this percent of the limit."
    ).tag(config=True)
    critical_percent = Float(
        95.0,
        help="""Past this percent of the limit (and once the snapshot was taken or attempted) the watcher
        stops the running cell with a MemoryLimitInterrupt, so the kernel and its variables survive.""",
    ).tag(config=True)
    interrupt_cells = Bool(
        True, help="Let the watcher stop a runaway cell at critical_percent (a cell can opt out with %%guard off)."
    ).tag(config=True)
    hard_limit = Bool(
        False,
        help="""Also keep each kernel's RLIMIT_DATA just above the memory the container can still give,
        so that a single allocation too large to fit (one np.ones(...) call, which no interruption can
        stop) fails with MemoryError instead of an OOM kill. Off by default: it counts virtual data
        mappings, and has not been checked with CUDA's or JAX's allocators (see the README).""",
    ).tag(config=True)
    background_snapshots = Bool(
        True,
        help="""Keep each kernel's snapshot current while it is idle after a cell ran (on a thread,
        throttled, stopped as soon as a cell starts), so that near the memory limit only what changed
        since is left to write.""",
    ).tag(config=True)
    keep_snapshots = Int(3, help="Snapshots kept per notebook; older ones are deleted.").tag(config=True)

    idle_timeout = Int(
        0,
        help="""Seconds of inactivity after which something outside this server ends the runtime, so the
        countdown can show it: the JupyterHub idle culler's --timeout (e.g. 3600), Colab's idle
        disconnect (about 5400 s on the free tier). 0: none. colab-guard only shows it unless
        `enforce` is set.""",
    ).tag(config=True)

    idle_check_interval = Int(
        0,
        help="""Seconds between the checks of the outside idle culler that idle_timeout mirrors
        (jupyterhub-idle-culler's --cull-every; the Zero to JupyterHub chart's cull.every, 600 by
        default): it ends the runtime at its first check after the timeout, so the countdown is a
        window this wide. 0: unknown (the countdown is the earliest moment).""",
    ).tag(config=True)

    max_lifetime = Int(
        0,
        help="""Seconds after the server started at which the runtime is ended whatever it does: the
        JupyterHub idle culler's --max-age, Colab's maximum session (about 43200 s on the free tier).
        0: none.""",
    ).tag(config=True)

    enforce = Bool(
        False,
        help="""Let colab-guard itself shut down kernels whose idle_timeout or max_lifetime countdown
        reached zero, after asking the kernel's watcher to snapshot the variables first.""",
    ).tag(config=True)

    rates = Dict(
        {},
        help="""Hourly price of this runtime by accelerator name pattern, to show the cost so far, e.g.
        {"A100": {"rate": 1.18, "unit": "USD"}, "T4": {"rate": 1.96, "unit": "compute units"},
        "TPU v2": {"rate": 1.76, "unit": "compute units"}}. The first pattern found in a GPU's or
        TPU's name applies (case-insensitive). No match: no cost figure.""",
    ).tag(config=True)

    weekly_accelerator_hours = Float(
        0.0,
        help="""A weekly budget of accelerator hours, to show the hours used over the last 7 days
        against it (from the usage log) and warn past 80 % of it. Colab's free tier allows roughly 30
        GPU hours a week, but its limits are not published: this is your own budget, not a promise.
        0: no budget (the hours are still shown).""",
    ).tag(config=True)

    low_utilization_threshold = Float(
        10.0, help="GPU utilisation (percent) under which time with GPU memory held counts as idle."
    ).tag(config=True)
    low_utilization_minutes = Float(10.0, help="Minutes of low GPU utilisation before the advice appears.").tag(config=True)
    memory_trend_seconds = Float(
        300.0, help="Window (seconds) over which a steady memory growth is detected and projected to the limit."
    ).tag(config=True)
    history_seconds = Float(3600.0, help="How much sample history the sampler keeps for sparklines.").tag(config=True)

    usage_log_interval = Float(
        60.0, help="Seconds between two lines of the resource-usage log (JSON lines); 0 turns the log off."
    ).tag(config=True)
    usage_log_max_bytes = Int(5 << 20, help="Size at which the usage log rotates (3 old files are kept).").tag(config=True)
    usage_log_path = Unicode(help="The usage log; defaults to colab_guard/usage.jsonl in the Jupyter data dir.").tag(config=True)

    cgroup_root = Unicode("/sys/fs/cgroup", help="Where the cgroup filesystems are mounted.").tag(config=True)
    proc_root = Unicode("/proc", help="Where procfs is mounted.").tag(config=True)
    dev_root = Unicode("/dev", help="Where device files are (TPU detection).").tag(config=True)

    @property
    def server_id(self) -> str:
        """This server among others sharing the user's folder: its state file is ``server-<id>.json``."""
        return f"{socket.gethostname()}-{os.getpid()}"

    @default("usage_log_path")
    def _default_usage_log_path(self):
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "colab_guard", "usage.jsonl")

    @validate("rates")
    def _check_rates(self, proposal):
        for pattern, rate in proposal.value.items():
            if not isinstance(rate, dict) or not isinstance(rate.get("rate"), (int, float)) or rate["rate"] < 0:
                raise TraitError(
                    f'ColabGuard.rates[{pattern!r}] must be {{"rate": <hourly number>, "unit": "..."}}, not {rate!r}'
                )
        return proposal.value

    @default("snapshot_dir")
    def _default_snapshot_dir(self):
        return default_snapshot_dir()

    @validate("sample_interval")
    def _check_interval(self, proposal):
        if not 0.05 <= proposal.value <= 3600:
            raise TraitError(f"ColabGuard.sample_interval must be between 0.05 and 3600 s, not {proposal.value}")
        return proposal.value

    @validate("warn_percent", "snapshot_percent", "critical_percent")
    def _check_percent(self, proposal):
        if not 0 < proposal.value <= 100:
            raise TraitError(f"ColabGuard.{proposal.trait.name} must be a percent in (0, 100], not {proposal.value}")
        return proposal.value

    @validate("weekly_accelerator_hours")
    def _check_weekly(self, proposal):
        if proposal.value < 0:
            raise TraitError("ColabGuard.weekly_accelerator_hours cannot be negative")
        return proposal.value

    @validate("keep_snapshots")
    def _check_keep(self, proposal):
        if proposal.value < 1:
            raise TraitError("ColabGuard.keep_snapshots must be at least 1")
        return proposal.value

    @validate("memory_limit")
    def _check_memory_limit(self, proposal):
        if proposal.value is None:
            return None
        try:
            return parse_size(proposal.value)
        except ValueError as exc:
            raise TraitError(f"ColabGuard.memory_limit: {exc}") from exc

    def watcher_settings(self) -> WatcherSettings:
        """The kernel watcher's settings, checked together (thresholds in order) before anything starts."""
        settings = WatcherSettings(
            warn_percent=self.warn_percent,
            snapshot_percent=self.snapshot_percent,
            critical_percent=self.critical_percent,
            interrupt=self.interrupt_cells,
            hard_limit=self.hard_limit,
            keep=self.keep_snapshots,
            background=self.background_snapshots,
            memory_limit=self.memory_limit,
            snapshot_dir=self.snapshot_dir,
            shared_heartbeats=self.shared_heartbeats,
            rates=dict(self.rates),
            max_lifetime=self.max_lifetime or None,
            idle_timeout=self.idle_timeout or None,
            weekly_hours=self.weekly_accelerator_hours or None,
            low_utilization_threshold=self.low_utilization_threshold,
            low_utilization_minutes=self.low_utilization_minutes,
        )
        try:
            settings.validate()
        except ValueError as exc:
            raise TraitError(f"ColabGuard: {exc}") from None
        return settings

    def kernel_env(self) -> dict[str, str]:
        """The watcher's settings, passed to the kernels this server starts."""
        env = self.watcher_settings().to_env()
        env["COLAB_GUARD_SERVER"] = self.server_id
        if self.nvml_recording:
            env["COLAB_GUARD_NVML_RECORDING"] = self.nvml_recording
        return env
