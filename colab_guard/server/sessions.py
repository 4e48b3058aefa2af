"""The session view: every kernel, its memory, and the countdown to whatever will end it.

The countdown has to predict what will really happen, so it combines every limit that applies and
says where each came from: jupyter_server's own kernel culler (idle timeout, checked every
``cull_interval``; busy or connected kernels are spared unless ``cull_busy``/``cull_connected``),
``ServerApp.shutdown_no_activity_timeout`` (only once no kernel is left, checked every minute), and
limits enforced outside this server that an admin mirrors in colab-guard's ``idle_timeout`` and
``max_lifetime`` (the JupyterHub idle culler's ``--timeout``/``--max-age``, Colab's idle and
lifetime limits).
"""

from __future__ import annotations

import os
import time

from jupyter_server.utils import ensure_async

from ..contract.heartbeat import read_cells, read_heartbeat
from ..contract.server_state import FORMAT as SERVER_STATE_FORMAT
from ..contract.server_state import ServerStateFields
from ..contract.times import epoch, iso
from ..readers.host import oom_score
from ..usage.hours import accelerator_hours, with_budget
from .countdown import idle_cull_at, seconds_left
from .hub_clock import busy_cull_warning
from .jupyter_adapter import culler_next_check, find_kernel, kernel_connections, kernel_process

SHUTDOWN_CHECK_SECONDS = 60  # jupyter_server checks shutdown_no_activity_timeout once a minute
HOURS_SECONDS = 60.0  # the week's accelerator hours are read from the usage log at most this often


class SessionTracker:
    """Builds the sessions payload from the server's kernel and session managers and the sampler."""

    def __init__(self, app):
        self.app = app
        self.serverapp = app.serverapp
        self.km = app.serverapp.kernel_manager
        self._cached: dict | None = None
        self._cached_at = 0.0
        self._hours: dict | None = None
        self._hours_at = float("-inf")

    # -- the effective policy
    def policy(self) -> dict:
        km, server, app = self.km, self.serverapp, self.app

        fixed = getattr(app, "admin_fixed", {})

        def item(value, source, unit="seconds"):
            name = source.split(".", 1)[1]
            if source.startswith("ColabGuard.") and name in fixed:
                source = f"{source} (fixed by the admin in {fixed[name]})"
            return {"value": value, "source": source, "unit": unit}

        return {
            "cull_idle_timeout": item(km.cull_idle_timeout or None, "MappingKernelManager.cull_idle_timeout"),
            "cull_interval": item(km.cull_interval, "MappingKernelManager.cull_interval"),
            "cull_busy": item(km.cull_busy, "MappingKernelManager.cull_busy", None),
            "cull_connected": item(km.cull_connected, "MappingKernelManager.cull_connected", None),
            "shutdown_no_activity_timeout": item(
                server.shutdown_no_activity_timeout or None, "ServerApp.shutdown_no_activity_timeout"
            ),
            "idle_timeout": item(app.idle_timeout or None, "ColabGuard.idle_timeout"),
            "idle_check_interval": item(app.idle_check_interval or None, "ColabGuard.idle_check_interval"),
            "max_lifetime": item(app.max_lifetime or None, "ColabGuard.max_lifetime"),
            "enforce": item(app.enforce, "ColabGuard.enforce", None),
            "weekly_accelerator_hours": item(
                app.weekly_accelerator_hours or None, "ColabGuard.weekly_accelerator_hours", "hours"
            ),
        }

    def _kernel_cull_timeout(self, kernel) -> float:
        """jupyter_server lets a kernelspec's metadata override cull_idle_timeout."""
        try:
            spec = self.km.kernel_spec_manager.get_kernel_spec(kernel.kernel_name)
            return float(spec.metadata.get("cull_idle_timeout", self.km.cull_idle_timeout))
        except Exception:  # noqa: BLE001 - no spec: the server-wide value applies
            return float(self.km.cull_idle_timeout)

    def server_view(self, now: float) -> dict:
        server, app = self.serverapp, self.app
        started = epoch(server.web_app.settings.get("started"))
        last_activity = epoch(server.web_app.last_activity())
        to_shutdown = None
        timeout = server.shutdown_no_activity_timeout
        if timeout and len(self.km) == 0 and last_activity is not None:
            to_shutdown = max(0.0, last_activity + timeout + SHUTDOWN_CHECK_SECONDS / 2 - now)
        hub = self.hub_view(now, last_activity)
        if hub is not None and hub["answered"]:
            # the hub's culler ends this server: its clock, not jupyter_server's, counts down
            idle_end, idle_by = epoch(hub["cull_from"]), epoch(hub["cull_by"])
            started = self.app.hub_clock.started or started
        else:
            idle_end = last_activity + app.idle_timeout if app.idle_timeout and last_activity else None
            idle_by = idle_end + (app.idle_check_interval or 0) if idle_end is not None else None
        lifetime_end = started + app.max_lifetime if app.max_lifetime and started else None
        return {
            "started": iso(started),
            "last_activity": iso(last_activity),
            "idle_seconds": None if last_activity is None else round(now - last_activity, 1),
            "seconds_to_shutdown": None if to_shutdown is None else round(to_shutdown, 1),
            "idle_disconnect_at": iso(idle_end),
            "seconds_to_idle_disconnect": seconds_left(idle_end, now),
            # the outside culler acts at its first check after idle_disconnect_at: by this moment
            "idle_disconnect_by": iso(idle_by),
            "seconds_to_idle_disconnect_by": seconds_left(idle_by, now),
            "lifetime_ends_at": iso(lifetime_end),
            "seconds_to_lifetime_end": seconds_left(lifetime_end, now),
            "hub": hub,
        }

    def hub_view(self, now: float, own_activity: float | None) -> dict | None:
        """The hub's idle culler's countdown and what keeps this server alive; None without a hub."""
        clock = getattr(self.app, "hub_clock", None)
        if clock is None:
            return None
        connections = sum(kernel_connections(self.km, kernel_id) for kernel_id in self.km.list_kernel_ids())
        busy = sum(state == "busy" for state in self.app.sampler.kernel_states.values())  # from update_pids
        return clock.view(now, own_activity, connections, busy, self.app.idle_timeout, self.app.idle_check_interval)

    def kernel_view(self, kernel_id: str, path: str | None, now: float, server: dict) -> dict:
        km = self.km
        kernel = find_kernel(km, kernel_id)
        if kernel is None:
            raise KeyError(kernel_id)  # shut down while we looked
        last = epoch(getattr(kernel, "last_activity", None))
        state = getattr(kernel, "execution_state", None)
        connections = kernel_connections(km, kernel_id)
        process = kernel_process(kernel)
        usage = self.app.sampler.kernel_usage.get(kernel_id, {})

        candidates: list[tuple[float, str]] = []  # (epoch, reason)
        timeout = self._kernel_cull_timeout(kernel) if km.cull_idle_timeout else 0
        if timeout > 0 and last is not None:
            spared = (state == "busy" and not km.cull_busy) or (connections and not km.cull_connected)
            if not spared:
                candidates.append((idle_cull_at(last, timeout, culler_next_check(km, now), km.cull_interval), "idle-culling"))
        for key, why in (("idle_disconnect_at", "idle-timeout"), ("lifetime_ends_at", "max-lifetime")):
            at = epoch(server[key])
            if at is not None:
                candidates.append((at, why))
        cull_at, reason = min(candidates) if candidates else (None, None)
        return {
            "id": kernel_id,
            "name": kernel.kernel_name,
            "path": path,
            "execution_state": state,
            "connections": connections,
            "last_activity": iso(last),
            "idle_seconds": None if last is None else round(now - last, 1),
            "pid": getattr(process, "pid", None),
            "rss": usage.get("rss"),
            # the OOM killer takes the kernel with the highest score first
            "oom_score": None if process is None else oom_score(process.pid),
            "gpu_memory": usage.get("gpu_memory"),
            "cull_at": iso(cull_at),
            "seconds_to_cull": seconds_left(cull_at, now),
            "cull_reason": reason,
            "cells": self.cells(kernel_id, getattr(process, "pid", None)),
        }

    def cells(self, kernel_id: str, pid: int | None) -> list[dict] | None:
        """Memory by cell, from the kernel's heartbeat; None where this kernel process left none."""
        notebook = getattr(self.app, "kernels", None) and self.app.kernels.notebooks.get(kernel_id)
        if not notebook or pid is None:
            return None
        beat = read_heartbeat(self.app.snapshot_dir, notebook)
        if beat is None or beat.get("pid") != pid:
            return None
        return read_cells(self.app.snapshot_dir, notebook, beat) or []

    def accelerator_hours(self, now: float) -> dict | None:
        """Hours with an accelerator over the last 7 days from the usage log, against the weekly budget."""
        log = self.app.sampler.usage_log
        if log is None:
            return None
        if self._hours is None or now - self._hours_at >= HOURS_SECONDS:
            self._hours = with_budget(accelerator_hours(log.lines(), now), self.app.weekly_accelerator_hours)
            self._hours_at = now
        return self._hours

    async def paths(self) -> dict[str, str]:
        """kernel id -> notebook path, from the session manager."""
        try:
            sessions = await ensure_async(self.serverapp.session_manager.list_sessions())
        except Exception:  # noqa: BLE001 - no session manager state: kernels without paths
            return {}
        return {s["kernel"]["id"]: s.get("path") for s in sessions if s.get("kernel")}

    def update_pids(self) -> None:
        """Tell the sampler which processes are kernels and whether they run a cell (it measures them
        off the event loop)."""
        pids, states = {}, {}
        for kernel_id in self.km.list_kernel_ids():
            kernel = find_kernel(self.km, kernel_id)
            if kernel is None:
                continue  # shut down while we looked
            states[kernel_id] = getattr(kernel, "execution_state", None)
            process = kernel_process(kernel)
            if process is not None:
                pids[kernel_id] = process.pid
        self.app.sampler.kernel_pids = pids
        self.app.sampler.kernel_states = states

    async def payload(self) -> dict:
        """The sessions view, computed at most once per sample interval however many tabs poll."""
        if self._cached is not None and time.monotonic() - self._cached_at < self.app.sample_interval:
            return self._cached
        payload = await self._payload()
        self._cached, self._cached_at = payload, time.monotonic()
        return payload

    async def _payload(self) -> dict:
        now = time.time()
        self.update_pids()
        paths = await self.paths()
        server = self.server_view(now)
        kernels = []
        for kernel_id in self.km.list_kernel_ids():
            try:
                kernels.append(self.kernel_view(kernel_id, paths.get(kernel_id), now, server))
            except KeyError:
                continue  # shut down while we looked
        sampler = self.app.sampler
        accelerators = sampler.latest.get("accelerators", [])
        memory = sampler.latest.get("host", {}).get("memory", {})
        from ..usage.cost import advice

        hours = self.accelerator_hours(now)
        warnings = advice(
            sampler.meter,
            self.app.low_utilization_minutes,
            sampler.history.working_set_trend(self.app.memory_trend_seconds),
            memory,
        )
        if hours and hours.get("warning"):
            warnings.append({"kind": "accelerator-hours", "message": hours["warning"]})
        hub_cull = busy_cull_warning(server["hub"], now)
        if hub_cull:
            warnings.append({"kind": "hub-cull", "message": hub_cull})
        return {
            "now": iso(now),
            "server": server,
            "policy": self.policy(),
            "kernels": kernels,
            "cost": sampler.meter.payload(self.app.rates, accelerators),
            "warnings": warnings,
            "accelerator_hours": hours,
        }

    @staticmethod
    def state_for_kernels(payload: dict, environment: dict) -> ServerStateFields:
        """What the kernels this server started read from its state file (``contract.server_state``):
        the panel's countdowns, policy, cost and advice, each kernel's own countdown by its id."""
        return {
            "format": SERVER_STATE_FORMAT,
            "pid": os.getpid(),
            "time": time.time(),
            "environment": environment,
            "server": payload["server"],
            "policy": payload["policy"],
            "kernels": {
                k["id"]: {"cull_at": k["cull_at"], "seconds_to_cull": k["seconds_to_cull"], "cull_reason": k["cull_reason"]}
                for k in payload["kernels"]
            },
            "cost": payload.get("cost"),
            "warnings": payload.get("warnings") or [],
            "accelerator_hours": payload.get("accelerator_hours"),
            "now": payload["now"],
        }
