"""The server's side of the kernel watcher: load it into the kernels the server starts, and record
a post-mortem when one dies.

jupyter_server has no hook for kernel launch arguments, so ``KernelLauncher`` wraps the kernel
manager's ``start_kernel`` on this server only: for IPython kernels it adds ``--ext=colab_guard``
and the watcher's settings as ``COLAB_GUARD_*`` variables, and registers a restart callback that
records a post-mortem when the kernel dies.
"""

from __future__ import annotations

import os
import time

from ..contract.channels import notebook_from_env
from ..contract.heartbeat import read_heartbeat
from ..contract.manifests import latest_summary
from ..contract.paths import is_kernel_notebook, kernel_notebook
from ..contract.renames import record_rename
from .jupyter_adapter import find_kernel, kernel_launch_env, kernel_process
from .postmortem import diagnose

EXTENSION_ARG = "--ext=colab_guard"


def _is_ipykernel(argv: list[str]) -> bool:
    return any("ipykernel" in part for part in argv)


class KernelLauncher:
    """Starts IPython kernels with the watcher and keeps the post-mortems of those that died."""

    def __init__(self, app):
        self.app = app
        self.kernel_manager = app.serverapp.kernel_manager
        self.postmortems: dict[str, dict] = {}
        self.previous_session: list[dict] = []
        self.oom_killed = 0  # deaths attributed to the OOM killer since the server started (for /metrics)
        self.notebooks: dict[str, str | None] = {}  # kernel id -> notebook path
        self.with_watcher: set[str] = set()
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
        kernel = find_kernel(self.kernel_manager, kernel_id)
        if kernel is None:
            return
        env, extra_arguments = kernel_launch_env(kernel)
        # a kernel started without a notebook files its heartbeat under its own identity
        notebook = notebook_from_env(env) or kernel_notebook(kernel_id)
        self.notebooks[kernel_id] = notebook
        if EXTENSION_ARG in extra_arguments:
            self.with_watcher.add(kernel_id)

        def died():
            self.record(kernel_id, kernel, self.notebooks.get(kernel_id))

        kernel.add_restart_callback(died, "restart")
        kernel.add_restart_callback(died, "dead")

    def record(self, kernel_id: str, kernel, notebook: str | None) -> dict:
        process = kernel_process(kernel)
        exit_code = None if process is None else process.poll()
        beat = read_heartbeat(self.app.snapshot_dir, notebook)
        if beat is not None and process is not None and beat.get("pid") != process.pid:
            beat = None  # the heartbeat of another process of the same notebook
        report = {
            "kernel_id": kernel_id,
            "notebook": None if is_kernel_notebook(notebook) else notebook,
            "died_at": time.time(),
            **diagnose(exit_code, beat, self.app.warn_percent),
            "snapshot": latest_summary(self.app.snapshot_dir, notebook),
        }
        self.postmortems[kernel_id] = report
        if report["cause"] == "oom-killer":
            self.oom_killed += 1
        self.app.log.warning(
            "colab-guard: kernel %s (%s) died: %s (%s)",
            kernel_id,
            report["notebook"] or "no notebook",
            report["cause"],
            report["confidence"],
        )
        return report

    def follow_renames(self) -> None:
        """Notebooks renamed or moved since their kernel started: their snapshots follow them."""
        for kernel_id, notebook in list(self.notebooks.items()):
            kernel = find_kernel(self.kernel_manager, kernel_id)
            if kernel is None:
                continue  # shut down (its post-mortem, if it died, is already recorded)
            env, _ = kernel_launch_env(kernel)
            renamed = notebook_from_env(env)
            if renamed and renamed != notebook:
                self.notebooks[kernel_id] = renamed
                try:
                    moved = record_rename(self.app.snapshot_dir, notebook, renamed)
                except OSError as exc:
                    self.app.log.warning("colab-guard: the snapshots of %s could not follow it to %s: %s", notebook, renamed, exc)
                    continue
                self.app.log.info("colab-guard: %s was renamed to %s; %d snapshots follow it", notebook, renamed, moved)
