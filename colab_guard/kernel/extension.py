"""The IPython extension's hooks: start colab-guard in a kernel, stop it, and find it again.

Loaded automatically into kernels the colab-guard server starts, or by hand anywhere else
(``%load_ext colab_guard``: Colab, a Colab local runtime, plain IPython).
"""

from __future__ import annotations

import signal
import threading

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from ..contract.channels import SNAPSHOT_REQUEST_SIGNAL
from ..contract.settings import WatcherSettings
from .guard import Guard
from .identity import resolve
from .interrupt import MemoryLimitInterrupt
from .magics import GuardMagics

_guard: Guard | None = None


def load(shell: InteractiveShell) -> Guard:
    """Start colab-guard in this kernel (idempotent)."""
    global _guard
    if _guard is not None and _guard.shell is shell:
        return _guard
    # first: a server's request must never end a kernel where colab-guard could not start
    _listen_for_snapshot_requests()
    try:
        settings = WatcherSettings.from_env()
    except ValueError as exc:
        raise UsageError(f"colab-guard: {exc}") from None
    # which notebook: JPY_SESSION_NAME, or this kernel's session on the runtime's server (Colab)
    _guard = Guard(shell, settings, resolve())
    shell.register_magics(GuardMagics(shell, guard=_guard))
    shell.events.register("pre_run_cell", _guard.hooks.pre_run)
    shell.events.register("post_run_cell", _guard.hooks.post_run)
    shell.set_custom_exc((MemoryLimitInterrupt,), _guard.stopper.show)  # type: ignore[no-untyped-call]  # IPython's, untyped
    # Read before this kernel's own watcher replaces the heartbeat; shown in the first cell run,
    # since output sent while the kernel starts reaches no notebook.
    _guard.greeting = "\n".join(line for line in (*_guard.setup_notes, _guard.previous_death()) if line) or None
    if _guard.greeting:
        shell.events.register("pre_run_cell", _greet_once)
    _guard.watcher.start()
    _guard.meter.start()
    return _guard


def _listen_for_snapshot_requests() -> None:
    """The server's signal (SIGUSR1) (enforcing a time limit) asks for a snapshot before shutdown."""
    if threading.current_thread() is not threading.main_thread() or SNAPSHOT_REQUEST_SIGNAL is None:
        return
    if signal.getsignal(SNAPSHOT_REQUEST_SIGNAL) not in (signal.SIG_DFL, None):
        return  # the user's own handler wins

    def requested(signum: int, frame: object) -> None:
        guard = _guard
        if guard is not None:
            threading.Thread(target=guard.snapshot_before_shutdown, daemon=True).start()

    signal.signal(SNAPSHOT_REQUEST_SIGNAL, requested)


def _greet_once(*args: object) -> None:
    """Say once, in the first cell run, why the previous kernel of this notebook died."""
    guard = _guard
    if guard is not None:
        guard.shell.events.unregister("pre_run_cell", _greet_once)
        if guard.greeting:
            guard._notify("warning", guard.greeting)


def unload(shell: InteractiveShell) -> None:
    """Stop the watcher and remove colab-guard's hooks from this kernel."""
    global _guard
    if _guard is not None:
        if _guard.monitor is not None:
            _guard.monitor.stop()
        _guard.meter.stop()
        _guard.watcher.stop(clean=True)
        shell.events.unregister("pre_run_cell", _guard.hooks.pre_run)
        shell.events.unregister("post_run_cell", _guard.hooks.post_run)
        shell.set_custom_exc((), None)  # type: ignore[no-untyped-call]  # IPython's, untyped
        _guard = None


def get_guard() -> Guard:
    """The running colab-guard of this kernel (``%load_ext colab_guard`` first)."""
    if _guard is None:
        raise RuntimeError("colab-guard is not loaded in this kernel: run %load_ext colab_guard")
    return _guard
