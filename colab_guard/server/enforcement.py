"""colab-guard's own enforcement of idle_timeout and max_lifetime: snapshot first, then shut down; and
the snapshot of busy kernels before the hub's culler ends the server."""

from __future__ import annotations

import os
import time

from ..contract.channels import SNAPSHOT_REQUEST_SIGNAL
from ..contract.heartbeat import read_heartbeat
from .hub_clock import seconds_to_imminent_cull

SNAPSHOT_GRACE = 30.0  # seconds a kernel gets to snapshot before colab-guard shuts it down


class Enforcer:
    """Shuts down kernels whose countdown reached zero, once their watcher saved the variables."""

    def __init__(self, app, launcher):
        self.app = app
        self.launcher = launcher
        self.kernel_manager = app.serverapp.kernel_manager
        self.enforced: dict[str, dict] = {}  # kernel id -> why colab-guard shut it down
        self._snapshot_asked: dict[str, tuple[float, str | None]] = {}
        self._hub_warned: set[str] = set()  # busy kernels snapshotted before the hub's cull

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
            notebook = self.launcher.notebooks.get(kernel_id)
            if kernel_id in self.launcher.with_watcher and kernel["pid"]:
                asked = self._snapshot_asked.get(kernel_id)
                if asked is None:
                    self._ask_snapshot(kernel, now)
                    continue
                beat = read_heartbeat(self.app.snapshot_dir, notebook)
                if (beat.get("last_snapshot") if beat else None) == asked[1] and now - asked[0] < SNAPSHOT_GRACE:
                    continue  # still saving
            self._snapshot_asked.pop(kernel_id, None)
            self.enforced[kernel_id] = {"reason": kernel["cull_reason"], "at": now, "notebook": notebook}
            self.app.log.warning("colab-guard: shutting down kernel %s (%s reached)", kernel_id, kernel["cull_reason"])
            await self.kernel_manager.shutdown_kernel(kernel_id)

    def _ask_snapshot(self, kernel: dict, now: float) -> None:
        """The snapshot request (SIGUSR1): the kernel's watcher saves the variables (and says why in the running cell)."""
        beat = read_heartbeat(self.app.snapshot_dir, self.launcher.notebooks.get(kernel["id"]))
        self._snapshot_asked[kernel["id"]] = (now, beat.get("last_snapshot") if beat else None)
        if SNAPSHOT_REQUEST_SIGNAL is None:
            return
        try:
            os.kill(kernel["pid"], SNAPSHOT_REQUEST_SIGNAL)
        except OSError:
            pass

    def before_hub_cull(self, sessions: dict) -> None:
        """The hub's culler will end this server soon while a cell runs (it does not count running
        cells): snapshot each busy kernel once per running cell (the sessions' warnings say it).

        Once: the kernel's message is output, which jupyter_server counts as activity and reports
        to the hub; asking again at every countdown would keep the server alive for ever.
        """
        now = time.time()
        seconds = seconds_to_imminent_cull(sessions["server"].get("hub"), now)
        for kernel in sessions["kernels"]:
            if kernel["execution_state"] != "busy":
                self._hub_warned.discard(kernel["id"])
            elif seconds is not None and kernel["id"] not in self._hub_warned:
                if kernel["id"] in self.launcher.with_watcher and kernel["pid"]:
                    self._hub_warned.add(kernel["id"])
                    self.app.log.warning(
                        "colab-guard: the hub will stop this server in %.0f s while kernel %s runs a cell: snapshotting it",
                        seconds,
                        kernel["id"],
                    )
                    self._ask_snapshot(kernel, now)
