"""The server's side of the kernel watcher: load it into the kernels the server starts, and say why
a kernel died.

jupyter_server has no hook for kernel launch arguments, so ``KernelLauncher`` wraps the kernel
manager's ``start_kernel`` on this server only: for IPython kernels it adds ``--ext=colab_guard``
and the watcher's settings as ``COLAB_GUARD_*`` variables, and registers a restart callback that
records a post-mortem when the kernel dies.
"""

from __future__ import annotations

import os
import signal
import time

from .cgroup import Cgroup, read_memory
from .snapshot import latest_manifest, list_snapshots, pid_alive
from .watcher import HEARTBEAT, read_heartbeat, read_heartbeat_file

EXTENSION_ARG = "--ext=colab_guard"
SNAPSHOT_GRACE = 30.0  # seconds a kernel gets to snapshot before colab-guard shuts it down
SNAPSHOT_LIST_SECONDS = 2.0  # many tabs polling the snapshot list read the disk once per this


def _is_ipykernel(argv: list[str]) -> bool:
    return any("ipykernel" in part for part in argv)


def _oom_kills_now(beat: dict) -> int | None:
    """The OOM-kill counter of the cgroup the dead kernel was in, read again now."""
    path, version = beat.get("cgroup_path"), beat.get("cgroup_version")
    if not path or not version:
        return None
    try:
        return read_memory(Cgroup(version, path, path)).oom_kills
    except (OSError, ValueError):
        return None


def diagnose(exit_code: int | None, beat: dict | None, warn_percent: float) -> dict:
    """Why a kernel died, from its exit status and its last heartbeat."""
    sig = -exit_code if exit_code is not None and exit_code < 0 else None
    signame = signal.Signals(sig).name if sig and sig in signal.Signals._value2member_map_ else None
    before = None if beat is None else beat.get("oom_kills")
    after = None if beat is None else _oom_kills_now(beat)
    oom_counter_rose = before is not None and after is not None and after > before
    near_limit = beat is not None and (beat.get("percent") or 0) >= warn_percent
    if oom_counter_rose:
        cause, confidence = "oom-killer", "certain"
    elif sig == signal.SIGKILL and near_limit:
        cause, confidence = "oom-killer", "likely"
    elif sig == signal.SIGKILL:
        cause, confidence = "killed", "certain"
    elif exit_code not in (None, 0):
        cause, confidence = "crashed", "certain"
    else:
        cause, confidence = "exited", "certain"
    return {
        "cause": cause,
        "confidence": confidence,
        "exit_code": exit_code,
        "signal": signame,
        "oom_kills_before": before,
        "oom_kills_after": after,
        "working_set": None if beat is None else beat.get("working_set"),
        "limit": None if beat is None else beat.get("limit"),
        "percent": None if beat is None else beat.get("percent"),
        "peak_percent": None if beat is None else beat.get("peak_percent"),
        "heartbeat_age": None if beat is None else round(time.time() - beat.get("time", time.time()), 2),
    }


class KernelLauncher:
    """Starts IPython kernels with the watcher and keeps the post-mortems of those that died."""

    def __init__(self, app):
        self.app = app
        self.kernel_manager = app.serverapp.kernel_manager
        self.postmortems: dict[str, dict] = {}
        self.previous_session: list[dict] = []
        self.notebooks: dict[str, str | None] = {}  # kernel id -> notebook path
        self.with_watcher: set[str] = set()
        self.enforced: dict[str, dict] = {}  # kernel id -> why colab-guard shut it down
        self._snapshot_asked: dict[str, tuple[float, str | None]] = {}
        self._snapshot_list: tuple[float, list[dict]] | None = None
        self._original = None

    # -- launch
    def install(self) -> None:
        km = self.kernel_manager
        self._original = km.start_kernel

        async def start_kernel(*args, kernel_id=None, **kwargs):
            fresh = kernel_id is None or kernel_id not in km
            if fresh and self.app.kernel_watcher:
                kwargs = self.launch_kwargs(kwargs)
            kernel_id = await self._original(*args, kernel_id=kernel_id, **kwargs)
            if fresh:
                self.watch(kernel_id)
            return kernel_id

        km.start_kernel = start_kernel

    def uninstall(self) -> None:
        if self._original is not None:
            self.kernel_manager.start_kernel = self._original
            self._original = None

    def launch_kwargs(self, kwargs: dict) -> dict:
        """Add the extension and its settings to an IPython kernel's launch."""
        km = self.kernel_manager
        name = kwargs.get("kernel_name") or km.default_kernel_name
        try:
            argv = km.kernel_spec_manager.get_kernel_spec(name).argv
        except Exception:  # noqa: BLE001 - unknown spec: jupyter_server reports that itself
            return kwargs
        if not _is_ipykernel(argv):
            return kwargs
        kwargs = dict(kwargs)
        kwargs["extra_arguments"] = [*kwargs.get("extra_arguments", []), EXTENSION_ARG]
        env = dict(kwargs.get("env") or os.environ)
        env.update(self.app.kernel_env())
        kwargs["env"] = env
        return kwargs

    # -- death
    def watch(self, kernel_id: str) -> None:
        km = self.kernel_manager
        try:
            kernel = km.get_kernel(kernel_id)
        except KeyError:
            return
        launch = getattr(kernel, "_launch_args", {}) or {}
        notebook = (launch.get("env") or {}).get("JPY_SESSION_NAME")
        self.notebooks[kernel_id] = notebook
        if EXTENSION_ARG in launch.get("extra_arguments", []):
            self.with_watcher.add(kernel_id)

        def died():
            self.record(kernel_id, kernel, notebook)

        kernel.add_restart_callback(died, "restart")
        kernel.add_restart_callback(died, "dead")

    def record(self, kernel_id: str, kernel, notebook: str | None) -> dict:
        provisioner = getattr(kernel, "provisioner", None)
        process = getattr(provisioner, "process", None)
        exit_code = None if process is None else process.poll()
        beat = read_heartbeat(self.app.snapshot_dir, notebook)
        if beat is not None and process is not None and beat.get("pid") != process.pid:
            beat = None  # the heartbeat of another process of the same notebook
        report = {
            "kernel_id": kernel_id,
            "notebook": notebook,
            "died_at": time.time(),
            **diagnose(exit_code, beat, self.app.warn_percent),
            "snapshot": _snapshot_summary(latest_manifest(self.app.snapshot_dir, notebook)),
        }
        self.postmortems[kernel_id] = report
        self.app.log.warning(
            "colab-guard: kernel %s (%s) died: %s (%s)", kernel_id, notebook or "no notebook", report["cause"], report["confidence"]
        )
        return report

    async def enforce(self, sessions: dict) -> None:
        """Shut down kernels whose idle_timeout or max_lifetime countdown reached zero.

        A kernel with the watcher is first sent SIGUSR1, which makes it snapshot its variables; it
        is shut down once that snapshot exists, or after SNAPSHOT_GRACE seconds.
        """
        now = time.time()
        for kernel in sessions["kernels"]:
            kernel_id = kernel["id"]
            if kernel["seconds_to_cull"] != 0 or kernel["cull_reason"] not in ("idle-timeout", "max-lifetime"):
                continue
            notebook = self.notebooks.get(kernel_id)
            if kernel_id in self.with_watcher and kernel["pid"]:
                asked = self._snapshot_asked.get(kernel_id)
                if asked is None:
                    beat = read_heartbeat(self.app.snapshot_dir, notebook) or {}
                    self._snapshot_asked[kernel_id] = (now, beat.get("last_snapshot"))
                    try:
                        os.kill(kernel["pid"], signal.SIGUSR1)
                    except OSError:
                        pass
                    continue
                beat = read_heartbeat(self.app.snapshot_dir, notebook) or {}
                if beat.get("last_snapshot") == asked[1] and now - asked[0] < SNAPSHOT_GRACE:
                    continue  # still saving
            self._snapshot_asked.pop(kernel_id, None)
            self.enforced[kernel_id] = {"reason": kernel["cull_reason"], "at": now, "notebook": notebook}
            self.app.log.warning("colab-guard: shutting down kernel %s (%s reached)", kernel_id, kernel["cull_reason"])
            await self.kernel_manager.shutdown_kernel(kernel_id)

    def scan_previous_session(self) -> list[dict]:
        """Stale heartbeats near the limit: a container OOM may have taken the previous server too."""
        found = []
        root = self.app.snapshot_dir
        for key in os.listdir(root) if os.path.isdir(root) else []:
            beat = read_heartbeat_file(os.path.join(root, key, HEARTBEAT))
            if not beat or beat.get("clean_exit") or pid_alive(beat.get("pid")):
                continue
            if (beat.get("percent") or 0) < self.app.warn_percent:
                continue
            report = {
                "kernel_id": None,
                "notebook": beat.get("notebook"),
                "died_at": beat.get("time"),
                **diagnose(None, beat, self.app.warn_percent),
                "cause": "oom-killer",
                "confidence": "likely",
                "previous_session": True,
                "snapshot": _snapshot_summary(latest_manifest(root, beat.get("notebook"))),
            }
            found.append(report)
        self.previous_session = found
        return found

    def snapshots(self) -> list[dict]:
        """Every snapshot's summary; the disk is listed at most every SNAPSHOT_LIST_SECONDS."""
        now = time.monotonic()
        if self._snapshot_list is None or now - self._snapshot_list[0] >= SNAPSHOT_LIST_SECONDS:
            self._snapshot_list = (now, [_snapshot_summary(m) for m in list_snapshots(self.app.snapshot_dir)])
        return self._snapshot_list[1]

    def forget_snapshot_list(self) -> None:
        """After a delete: the next listing reads the disk again."""
        self._snapshot_list = None


def _snapshot_summary(manifest: dict | None) -> dict | None:
    if manifest is None:
        return None
    path = manifest["_path"]
    return {
        "id": manifest["id"],
        "key": os.path.basename(os.path.dirname(path)),
        "notebook": manifest.get("notebook"),
        "created": manifest["created"],
        "created_ts": manifest["created_ts"],
        "reason": manifest.get("reason"),
        "size": sum(g["stream_size"] + g["data_size"] for g in manifest["groups"].values()),
        "variables": {name: info["type"] for name, info in manifest["variables"].items()},
        "modules": manifest.get("modules", {}),
        "skipped": manifest.get("skipped", {}),
        "restore": f"%guard restore {manifest['id']}",
    }
