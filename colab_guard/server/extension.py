"""The colab-guard server extension: wiring the readers, the sampler and the handlers together."""

from __future__ import annotations

import asyncio
import inspect

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback

from ..contract.ownership import SnapshotError
from ..contract.server_state import ServerStateFields, remove_server_state, write_server_state
from ..readers.accelerators import Accelerators, default_readers
from ..readers.host import CpuReader
from ..readers.memory import MemoryReader
from ..readers.nvml import GpuReader
from ..usage.cost import CostMeter
from . import colab_runtime, prometheus, routes
from .admin import admin_settings
from .enforcement import Enforcer
from .history import History
from .hub_clock import HubClock, HubSettings
from .launcher import KernelLauncher
from .postmortem import previous_session_reports
from .sampler import Sampler
from .sessions import SessionTracker
from .settings import ColabGuardSettings
from .snapshot_list import SnapshotList
from .usage_log import UsageLog


class ColabGuard(ColabGuardSettings, ExtensionApp):
    """colab-guard: accelerator, memory headroom and limits of this runtime, for JupyterLab and Colab."""

    name = "colab_guard"
    load_other_extensions = True

    def apply_admin_settings(self) -> dict:
        """Re-apply what the admin fixed system-wide over anything a user's own config set."""
        fixed = admin_settings()
        for name, (value, path) in fixed.items():
            before = getattr(self, name)
            setattr(self, name, value)  # validated like any setting
            if getattr(self, name) != before:
                self.log.warning("colab-guard: ColabGuard.%s is fixed by the admin (%s); the user's value is ignored", name, path)
        self.admin_fixed = {name: path for name, (value, path) in fixed.items()}
        return fixed

    def initialize_settings(self):
        """Build the readers and start the one sampler of this server."""
        self.apply_admin_settings()
        self.watcher_settings()  # refuse thresholds out of order before any thread starts
        nvml = None
        if self.nvml_recording:
            from ..readers.nvml_replay import ReplayNvml

            nvml = ReplayNvml(self.nvml_recording)
        self.sampler = Sampler(
            memory=MemoryReader(self.cgroup_root, self.proc_root, config_limit=self.memory_limit),
            cpu=CpuReader(self.cgroup_root, self.proc_root),
            accelerators=Accelerators(
                default_readers(dev_root=self.dev_root, gpus=GpuReader(nvml, retry_seconds=self.nvml_retry_seconds))
            ),
            disk_paths={"root_dir": self.serverapp.root_dir, "snapshot_dir": self.snapshot_dir},
            interval=self.sample_interval,
            history=History(self.history_seconds, self.sample_interval),
            meter=CostMeter(self.low_utilization_threshold),
            usage_log=UsageLog(self.usage_log_path, self.usage_log_interval, self.usage_log_max_bytes)
            if self.usage_log_interval > 0
            else None,
        )
        self.sampler.start()
        self.log.info("colab-guard: sampling every %.2fs", self.sample_interval)
        self.kernels = KernelLauncher(self)
        self.kernels.install()
        self.enforcer = Enforcer(self, self.kernels)
        self.snapshot_list = SnapshotList(self.snapshot_dir, self.log)
        hub = HubSettings.from_env()
        self.hub_clock = HubClock(hub, self.log) if hub is not None else None  # a JupyterHub's server
        if self.hub_clock is not None:
            self.hub_clock.requests.install(self.serverapp.web_app)
        self.sessions = SessionTracker(self)
        # keeps the sampler's list of kernel processes current, and enforces the countdown if asked
        self._housekeeping_errors: dict[str, str] = {}  # step -> the cause last logged
        self._housekeeping = PeriodicCallback(self._housekeep, 1000 * max(self.sample_interval, 1.0))
        self._housekeeping.start()
        self.kernels.previous_session = previous_session_reports(self.snapshot_dir, self.warn_percent)
        for report in self.kernels.previous_session:
            self.log.warning(
                "colab-guard: the previous kernel of %s likely died of the OOM killer at %.0f%% of its memory limit",
                report["notebook"] or "a session",
                report["percent"] or 0,
            )
        colab_runtime.install(self)
        prometheus.register(self)

    async def _housekeep(self) -> None:
        """One tick: each step runs whatever the others do, so one failure never stops the rest."""
        await self._step("kernel processes", self.sessions.update_pids)
        await self._step("renamed notebooks", self.kernels.follow_renames)
        if self.hub_clock is not None:
            await self._step("hub activity", self.hub_clock.refresh)
        payload = await self._step("sessions", self.sessions.payload)
        if payload is None:
            return
        if self.enforce:
            await self._step("enforcement", self.enforcer.enforce, payload)
        # the kernels' %guard status and monitor read the same countdowns, cost and advice
        state = self.sessions.state_for_kernels(payload, self.sampler.environment)
        await asyncio.get_running_loop().run_in_executor(None, self._write_state, state)
        if self.hub_clock is not None:  # after the state: the kernels asked to snapshot read why there
            await self._step("before the hub culls", self.enforcer.before_hub_cull, payload)

    async def _step(self, name: str, step, *args):
        """Run one housekeeping step; a failure is logged once per distinct cause and costs only this tick."""
        try:
            result = step(*args)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # the periodic job must outlive any one step's failure
            cause = f"{type(exc).__name__}: {exc}"
            if self._housekeeping_errors.get(name) != cause:
                self._housekeeping_errors[name] = cause
                self.log.exception("colab-guard: housekeeping step %r failed (logged once per cause)", name)
            return None
        self._housekeeping_errors.pop(name, None)
        return result

    def _write_state(self, state: ServerStateFields) -> None:
        try:
            write_server_state(self.snapshot_dir, self.server_id, state)
        except (OSError, SnapshotError) as exc:
            if not getattr(self, "_state_error", None):
                self.log.warning("colab-guard: cannot write the state kernels read (%s): %s", self.snapshot_dir, exc)
            self._state_error = str(exc)

    def initialize_handlers(self):
        self.handlers.extend(routes.ROUTES + colab_runtime.ROUTES)

    async def stop_extension(self):
        """Stop the sampler with the server."""
        sampler = getattr(self, "sampler", None)
        if sampler is not None:
            sampler.stop()
        kernels = getattr(self, "kernels", None)
        if kernels is not None:
            kernels.uninstall()
        housekeeping = getattr(self, "_housekeeping", None)
        if housekeeping is not None:
            housekeeping.stop()
            remove_server_state(self.snapshot_dir, self.server_id)
