"""colab-guard's gauges on jupyter_server's ``/metrics`` (prometheus_client's default registry).

One collector is registered once per process and reads the server that registered last (a
process runs one Jupyter server; tests start many in turn). Every value comes from what the
server already has: the sampler's latest sample, the post-mortems, the sessions tracker; only the
snapshot count reads the disk, at most once per ``SNAPSHOT_CACHE_SECONDS``.

Under JupyterHub every colab-guard metric also carries ``hub_user`` and ``hub_server`` (the
spawner's ``JUPYTERHUB_USER`` and ``JUPYTERHUB_SERVER_NAME``; the default server's empty name is
left out), constant for the server's life, so that a fleet's Prometheus can group by them;
``colab_guard_server_info`` carries them alone, to join jupyter_server's own metrics with.
They are not named ``instance`` or ``job``, which Prometheus sets itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from .. import __version__
from ..contract.manifests import list_snapshots
from ..readers.environment import detect_environment

SNAPSHOT_CACHE_SECONDS = 10.0
GPU_LABELS = ("gpu", "name")
KERNEL_LABELS = ("kernel_id", "kernel_name", "path")
# label -> the variable JupyterHub's spawner sets in the single-user server's environment
HUB_LABELS = {"hub_user": "JUPYTERHUB_USER", "hub_server": "JUPYTERHUB_SERVER_NAME"}

Family = GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily

log = logging.getLogger(__name__)


def hub_labels(env=None) -> dict[str, str]:
    """``hub_user``/``hub_server`` of a JupyterHub single-user server, those JupyterHub gives (non-empty)."""
    env = os.environ if env is None else env
    return {label: env[variable] for label, variable in HUB_LABELS.items() if env.get(variable)}


def _families(hub: list[str]) -> dict[str, Family]:
    """Every metric colab-guard exposes, without samples; ``hub``: the hub label names to add to each."""

    def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, documentation, labels=[*labels, *hub])

    def counter(name: str, documentation: str) -> CounterMetricFamily:
        return CounterMetricFamily(name, documentation, labels=hub)

    return {
        "info": InfoMetricFamily(
            "colab_guard_server",
            "This colab-guard server: its environment (local, colab, jupyterhub), version, and hub user and server name where JupyterHub gives them.",
            labels=[*hub, "environment", "version"],
        ),
        "working_set": gauge(
            "colab_guard_memory_working_set_bytes",
            "Working set of the server's container (usage minus inactive file cache): what the OOM killer counts.",
        ),
        "limit": gauge(
            "colab_guard_memory_limit_bytes",
            "The memory limit that really applies (smallest of config, cgroup, MEM_LIMIT, host RAM), by its source.",
            ("source",),
        ),
        "headroom": gauge("colab_guard_memory_headroom_bytes", "Memory limit minus working set."),
        "gpu_util": gauge(
            "colab_guard_gpu_utilization_percent",
            "Percent of the last sample period during which a kernel ran on the GPU (NVML).",
            GPU_LABELS,
        ),
        "gpu_used": gauge("colab_guard_gpu_memory_used_bytes", "GPU memory in use (NVML).", GPU_LABELS),
        "gpu_total": gauge("colab_guard_gpu_memory_total_bytes", "GPU memory in all (NVML).", GPU_LABELS),
        "snapshots": gauge("colab_guard_snapshots", "Complete variable snapshots in the snapshot dir, every notebook."),
        "oom": gauge(
            "colab_guard_kernel_oom_kills",
            "Kernels of this server whose last death the post-mortem attributes to the OOM killer.",
        ),
        "oom_killed": counter(
            "colab_guard_kernels_oom_killed",
            "Kernel deaths the post-mortem attributed to the OOM killer since this server started (a restarted kernel counts again).",
        ),
        "previous_oom": gauge(
            "colab_guard_previous_session_oom_kills",
            "Kernels of an earlier server in this snapshot dir whose heartbeat stopped near the limit: an OOM kill likely took the container, server included.",
        ),
        "cgroup_oom": counter(
            "colab_guard_cgroup_oom_kills",
            "OOM kills the server's memory cgroup has counted (memory.events / memory.oom_control).",
        ),
        "to_cull": gauge(
            "colab_guard_kernel_seconds_to_cull",
            "Seconds until the kernel is culled or the runtime ends (the earliest policy that applies).",
            KERNEL_LABELS,
        ),
    }


class ColabGuardCollector(Collector):
    """Reads the latest-registered colab-guard server at every scrape."""

    def __init__(self, clock=time.monotonic):
        self._app = lambda: None
        self._clock = clock
        self._snapshots: tuple[str, float, int] | None = None  # (snapshot dir, when, count)
        self._hub: dict[str, str] = {}
        self._environment = "local"

    def bind(self, app, env=None) -> None:
        """Read ``app`` from now on; the hub labels and environment are read once, from the server's environment."""
        self._app = weakref.ref(app)
        self._snapshots = None
        self._hub = hub_labels(env)
        self._environment = detect_environment(env)["kind"]

    def describe(self):
        return list(_families(list(self._hub)).values())

    def collect(self):
        app = self._app()
        if app is None or getattr(app, "sampler", None) is None:
            return []
        hub = list(self._hub.values())
        families = _families(list(self._hub))

        def add(key: str, labels: list[str], value: float) -> None:
            families[key].add_metric([*labels, *hub], value)

        families["info"].add_metric(hub, {"environment": self._environment, "version": __version__})
        sample = app.sampler.latest
        memory = sample.get("host", {}).get("memory", {})
        if not memory.get("error") and memory.get("limit") is not None:
            add("working_set", [], memory["working_set"])
            add("limit", [memory.get("limit_source") or ""], memory["limit"])
            add("headroom", [], memory["headroom"])
            oom_kills = (memory.get("cgroup") or {}).get("oom_kills")
            if oom_kills is not None:
                add("cgroup_oom", [], oom_kills)
        for gpu in sample.get("accelerators", []):
            if gpu.get("kind") != "gpu":
                continue
            labels = [str(gpu.get("index")), gpu.get("name") or ""]
            if gpu.get("utilization_gpu") is not None:
                add("gpu_util", labels, gpu["utilization_gpu"])
            if gpu.get("memory_used") is not None:
                add("gpu_used", labels, gpu["memory_used"])
            if gpu.get("memory_total") is not None:
                add("gpu_total", labels, gpu["memory_total"])
        count = self._snapshot_count(app.snapshot_dir)
        if count is not None:
            add("snapshots", [], count)
        kernels = getattr(app, "kernels", None)
        if kernels is not None:
            add("oom", [], sum(1 for r in kernels.postmortems.values() if r.get("cause") == "oom-killer"))
            add("oom_killed", [], kernels.oom_killed)
            add("previous_oom", [], len(kernels.previous_session))
        for kernel in _kernel_countdowns(app):
            if kernel.get("seconds_to_cull") is not None:
                labels = [kernel["id"], kernel.get("name") or "", kernel.get("path") or ""]
                add("to_cull", labels, kernel["seconds_to_cull"])
        return list(families.values())

    def _snapshot_count(self, snapshot_dir: str) -> int | None:
        """Snapshots on disk, listed at most once per SNAPSHOT_CACHE_SECONDS (scrapes may come often)."""
        now = self._clock()
        cached = self._snapshots
        if cached is not None and cached[0] == snapshot_dir and now - cached[1] < SNAPSHOT_CACHE_SECONDS:
            return cached[2]
        try:
            count = len(list_snapshots(snapshot_dir, on_unsafe=lambda exc: None))  # the snapshot list logs those
        except OSError as exc:
            log.warning("colab-guard: cannot list the snapshots in %s: %s", snapshot_dir, exc)
            return None
        self._snapshots = (snapshot_dir, now, count)
        return count


def _kernel_countdowns(app) -> list[dict]:
    """Each kernel's countdown from the sessions tracker, where there is one.

    ``SessionTracker.payload()`` is a coroutine and a scrape is synchronous, so this takes the same
    per-kernel view from its synchronous parts; the notebook paths come from the session table.
    """
    sessions = getattr(app, "sessions", None)
    if sessions is None:
        return []
    now = time.time()
    try:
        server = sessions.server_view(now)
        paths = _session_paths(app.serverapp)
        out = []
        for kernel_id in app.serverapp.kernel_manager.list_kernel_ids():
            try:
                out.append(sessions.kernel_view(kernel_id, paths.get(kernel_id), now, server))
            except KeyError:
                continue  # shut down while we looked
        return out
    except Exception:
        log.exception("colab-guard: cannot read the kernels' countdowns for /metrics")
        return []


def _session_paths(serverapp) -> dict[str, str]:
    """kernel id -> notebook path, read from the session manager's table with a cursor of our own."""
    manager = getattr(serverapp, "session_manager", None)
    connection = getattr(manager, "connection", None)
    if connection is None:
        return {}
    cursor = connection.cursor()
    try:
        cursor.execute("SELECT kernel_id, path FROM session")
        return {kernel_id: path for kernel_id, path in cursor.fetchall() if kernel_id}
    except Exception:  # noqa: BLE001 - the table exists once the manager's cursor was first used
        return {}
    finally:
        cursor.close()


_lock = threading.Lock()
_collector: ColabGuardCollector | None = None


def register(app) -> ColabGuardCollector:
    """Register colab-guard's collector in prometheus_client's default registry (once per process),
    reading ``app`` from now on."""
    global _collector
    with _lock:
        if _collector is None:
            collector = ColabGuardCollector()
            REGISTRY.register(collector)
            _collector = collector
        _collector.bind(app)
        return _collector
