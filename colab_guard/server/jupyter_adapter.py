"""The few things colab-guard reads from jupyter_server that it has no public API for, in one place.

``tests/server/test_jupyter_adapter.py`` fails when a jupyter_server release changes any of them.
"""

from __future__ import annotations

from typing import Any

from tornado.web import HTTPError


def culler_next_check(kernel_manager: Any, now: float) -> float | None:
    """Wall-clock time of jupyter_server's next cull check, from its culler's PeriodicCallback."""
    callback = getattr(kernel_manager, "_culler_callback", None)
    next_timeout = getattr(callback, "_next_timeout", None)
    if callback is None or next_timeout is None or not callback.is_running():
        return None
    return float(now + (next_timeout - callback.io_loop.time()))


def kernel_connections(kernel_manager: Any, kernel_id: str) -> int:
    """How many websockets are connected to a kernel (the culler spares connected kernels)."""
    return int(kernel_manager._kernel_connections.get(kernel_id, 0))


def kernel_process(kernel: Any) -> Any:
    """The kernel's local process (a Popen), or None for a remote or stopped kernel."""
    return getattr(getattr(kernel, "provisioner", None), "process", None)


def kernel_launch_env(kernel: Any) -> tuple[dict[str, str], list[str]]:
    """The environment and extra arguments a kernel was launched with."""
    launch = getattr(kernel, "_launch_args", None) or {}
    return dict(launch.get("env") or {}), list(launch.get("extra_arguments") or [])


def find_kernel(kernel_manager: Any, kernel_id: str) -> Any:
    """The kernel of that id, or None once it is shut down (jupyter_server answers HTTP 404, not KeyError)."""
    try:
        return kernel_manager.get_kernel(kernel_id)
    except (KeyError, HTTPError):
        return None
