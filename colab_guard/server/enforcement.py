"""colab-guard's own enforcement of idle_timeout and max_lifetime: snapshot first, then shut down."""

from __future__ import annotations

import os
import signal
import time

from ..contract.heartbeat import read_heartbeat

SNAPSHOT_GRACE = 30.0  # seconds a kernel gets to snapshot before colab-guard shuts it down


class Enforcer:
    """Shuts down kernels whose countdown reached zero, once their watcher saved the variables."""

    def __init__(self, app, launcher):
        self.app = app
        self.launcher = launcher
        self.kernel_manager = app.serverapp.kernel_manager
        self.enforced: dict[str, dict] = {}  # kernel id -> why colab-guard shut it down
        self._snapshot_asked: dict[str, tuple[float, str | None]] = {}

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
