"""What the kernel knows of its runtime's limits: its age against its maximum lifetime, the idle
disconnect, and the colab-guard server's word where one runs.

Where the kernel's own server runs colab-guard, that server's policy and countdowns reach the
kernel through its state file (``contract.server_state``); otherwise the kernel says what it can
know by itself, and how it knows it.
"""

from __future__ import annotations

import time
from typing import Any

import psutil

from ..contract.server_state import STALE_SECONDS, ServerState, read_server_state
from ..contract.settings import WatcherSettings
from ..contract.times import epoch

# Colab's documented maximum: "notebooks can run for at most 12 hours" (free tier; paid tiers longer).
COLAB_MAX_LIFETIME = 12 * 3600.0


def server_state(settings: WatcherSettings, snapshot_dir: str, now: float | None = None) -> ServerState | None:
    """The state of the colab-guard server that started this kernel, if it is fresh; with its age."""
    state = read_server_state(snapshot_dir, settings.server)
    if state is None:
        return None
    now = time.time() if now is None else now
    age = now - state["time"]
    return None if age > STALE_SECONDS else {**state, "age": round(age, 1)}


def runtime_start(server: ServerState | None) -> tuple[float, str]:
    """When the runtime started, and how that is known."""
    started = epoch(server["server"].get("started") if server else None)
    if started is not None:
        return started, "when the colab-guard server started"
    try:
        return psutil.Process(1).create_time(), "when this runtime's first process (pid 1) started"
    except psutil.Error:
        return psutil.Process().create_time(), "when this kernel started (the runtime may be older)"


def lifetime(settings: WatcherSettings, environment: str, server: ServerState | None, now: float) -> dict[str, Any]:
    """The runtime's age against its maximum lifetime, each with where it comes from."""
    started, how = runtime_start(server)
    policy = (server["policy"].get("max_lifetime") if server else None) or {}
    if server is not None:
        maximum, source = policy.get("value"), f"{policy.get('source', 'ColabGuard.max_lifetime')}, from the colab-guard server"
    elif settings.max_lifetime:
        maximum, source = settings.max_lifetime, f"max_lifetime, {settings.source('max_lifetime')}"
    elif environment == "colab":
        maximum, source = COLAB_MAX_LIFETIME, "Colab's documented maximum; change it with %guard config max_lifetime=..."
    else:
        maximum, source = None, "none known"
    ends = started + maximum if maximum else None
    return {
        "started": started,
        "started_how": how,
        "age": round(now - started, 1),
        "max_lifetime": maximum,
        "max_lifetime_source": source,
        "ends_at": ends,
        "seconds_left": None if ends is None else round(max(0.0, ends - now), 1),
    }


def idle(
    settings: WatcherSettings,
    environment: str,
    server: ServerState | None,
    kernel_id: str | None,
    idle_since: float | None,
    now: float,
) -> dict[str, Any]:
    """What is known of the idle disconnect: a countdown where something here decides it, else why not."""
    if server is not None:
        mine = server["kernels"].get(kernel_id or "")
        view = server["server"]
        candidates = []
        if mine is not None and mine["cull_at"]:
            candidates.append((epoch(mine["cull_at"]), mine["cull_reason"] or "idle-culling"))
        if view.get("idle_disconnect_at"):
            candidates.append((epoch(view["idle_disconnect_at"]), "idle-timeout"))
        known = [(at, why) for at, why in candidates if at is not None and why != "max-lifetime"]
        hub: dict[str, Any] = view["hub"] if isinstance(view.get("hub"), dict) else {}
        on_hub = bool(hub.get("answered"))
        # under a hub, its sentence says what keeps the server alive (or that nothing does)
        hub_text = hub.get("message") if on_hub and isinstance(hub.get("message"), str) else None
        if known:
            at, why = min(known)
            return {
                "seconds_left": round(max(0.0, at - now), 1),
                "reason": why,
                "source": "the hub's idle culler, on the hub's clock"
                if on_hub and why == "idle-timeout"
                else "the colab-guard server's countdown",
                "text": hub_text,
            }
        return {
            "seconds_left": None,
            "reason": None,
            "source": "the hub's idle culler" if on_hub else "the colab-guard server",
            "text": hub_text or "No idle limit is set",
        }
    if settings.idle_timeout:
        if idle_since is None:
            text = "a cell is running"
            left = None
        else:
            left = round(max(0.0, idle_since + settings.idle_timeout - now), 1)
            text = None
        return {
            "seconds_left": left,
            "reason": "idle-timeout",
            "source": f"idle_timeout, {settings.source('idle_timeout')}, counted from the last cell",
            "text": text,
        }
    if environment == "colab":
        return {
            "seconds_left": None,
            "reason": None,
            "source": "Colab",
            "text": (
                "Colab's idle disconnect is decided by its front end in your browser, not by this runtime: "
                "colab-guard cannot count it down"
            ),
        }
    return {"seconds_left": None, "reason": None, "source": None, "text": "No idle limit known"}
