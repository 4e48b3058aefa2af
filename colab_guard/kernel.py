"""The IPython extension: the memory watcher, ``%guard`` magics and the Python API behind them.

Loaded automatically into kernels the colab-guard server starts, or by hand anywhere else
(``%load_ext colab_guard``: a Colab local runtime, plain IPython).
"""

from __future__ import annotations

import html
import os
import shlex
import sys
import threading
import time
import traceback
import types

import psutil
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from .gpu_oom import explain, is_gpu_oom, kernels_by_pid
from .interrupt import MemoryLimitInterrupt, interrupt_thread

from .memory import MemoryReader, human_bytes
from .paths import default_snapshot_dir
from .snapshot import SnapshotError, list_snapshots, nbytes_of, pid_alive, restore_snapshot, user_variables
from .watcher import Watcher, WatcherSettings, read_heartbeat

GiB = 1 << 30
_guard: Guard | None = None

USAGE = """%guard status                      memory headroom, accelerator and the latest snapshot
%guard snapshot                    save your variables now
%guard list                        the snapshots of this notebook
%guard restore [SNAPSHOT] [NAMES]  load a snapshot's variables (all, or NAMES) [--mmap: lazy, for large arrays]
%guard top                         the largest variables, to know what to del
%%guard off                        (first line of a cell) run the cell without colab-guard stopping it"""


class Guard:
    """One per kernel: owns the watcher and implements the user's commands."""

    def __init__(self, shell, settings: WatcherSettings | None = None):
        self.shell = shell
        self.settings = settings or WatcherSettings.from_env()
        self.snapshot_dir = self.settings.snapshot_dir or default_snapshot_dir()
        self.greeting: str | None = None  # why the previous kernel of this notebook died, if it did
        self.watcher = Watcher(
            shell.user_ns,
            self.settings,
            self.snapshot_dir,
            hidden=getattr(shell, "user_ns_hidden", None),
            notify=self._notify,
            reader=MemoryReader(config_limit=self.settings.memory_limit),
            interrupt=self._interrupt_cell,
        )
        self.executing: int | None = None  # the thread running a cell (between pre_run_cell and post_run_cell)
        self.suppressed = False  # inside %%guard off
        self.deliveries: list[float] = []

    # -- stopping a runaway cell
    def _interrupt_cell(self, reading) -> bool:
        """Called by the watcher past the critical level: stop the running cell, if there is one."""
        thread = self.executing
        if thread is None or self.suppressed:
            return False
        return interrupt_thread(thread, self.stop_message(reading))

    def stop_message(self, reading) -> str:
        snap = self.watcher.last_snapshot
        when = f"a snapshot from {time.strftime('%H:%M', time.localtime(snap.manifest['created_ts']))} exists (`%guard restore`)" if snap else "no snapshot could be taken"
        top = ", ".join(f"{name} ({human_bytes(size)})" for name, size in self.largest()[:5])
        return (
            f"memory at {reading.working_set / GiB:.2f} of {reading.limit / GiB:.2f} GiB "
            f"({reading.percent:.0f}%): colab-guard stopped this cell before the out-of-memory killer "
            f"could end the kernel; your variables are intact and {when}. Largest variables: {top or 'none'}. "
            "Free memory with `del NAME`, or run the cell under `%%guard off` to take the risk."
        )

    def largest(self) -> list[tuple[str, int]]:
        sizes = []
        for name, value in list(user_variables(self.shell.user_ns, getattr(self.shell, "user_ns_hidden", None)).items()):
            if isinstance(value, (types.ModuleType, types.FunctionType, type)):
                continue  # code, not data: nothing to del
            size = nbytes_of(value)
            if size:
                sizes.append((name, size))
        return sorted(sizes, key=lambda item: -item[1])

    def _pre_run(self, *args):
        # ipykernel may run cells off the main thread: interrupt the one that runs this cell
        self.executing = threading.get_ident()
        self.watcher.cell_state = {"executing": True, "idle_since": None}

    def _post_run(self, result=None, *args):
        self.executing = None
        self.watcher.cell_state = {"executing": False, "idle_since": time.time()}
        error = getattr(result, "error_in_exec", None)
        if is_gpu_oom(error):
            self._notify("error", "GPU out of memory. " + self.explain_gpu_oom())

    def explain_gpu_oom(self) -> str:
        """Who holds the GPU memory, from NVML (or the configured recording) and kernels' heartbeats."""
        reading = read_gpus()
        own = {os.getpid(), *(c.pid for c in psutil.Process().children(recursive=True))}
        return explain(reading.gpus, own, kernels_by_pid(self.snapshot_dir))

    def _show_interrupt(self, shell, etype, value, tb, tb_offset=None):
        """One clear message instead of a traceback through the user's loop.

        The traceback's frames hold the stopped cell's temporaries (the runaway list), and IPython
        keeps the last traceback for %debug: clear them, or the memory is never given back.
        """
        self.deliveries.append(time.time())  # when the interruption reached the cell (benchmarks)
        traceback.clear_frames(tb)
        value.__traceback__ = None
        sys.last_traceback = None
        if hasattr(sys, "last_exc"):
            sys.last_exc = None
        self._notify("error", str(value))
        return None

    def _notify(self, level: str, message: str) -> None:
        """Show a message in the notebook; from the watcher thread it lands in the running cell."""
        from IPython.display import display

        color = "#b45309" if level == "warning" else "#b91c1c"
        display(
            {
                "text/plain": f"colab-guard {level}: {message}",
                "text/html": f'<div style="border-left:4px solid {color};padding:4px 8px"><b>colab-guard</b>: {html.escape(message)}</div>',
            },
            raw=True,
        )

    # -- the Python API (the magics call these)
    def snapshot(self):
        self.watcher.last = self.watcher.reader.read()
        result = self.watcher.snapshot(reason="manual")
        if result is None:
            raise SnapshotError(self.watcher.last_error or "snapshot failed")
        return result

    def restore(self, snapshot: str | None = None, names: list[str] | None = None, use_mmap: bool = False):
        return restore_snapshot(self.shell.user_ns, self.snapshot_dir, self.settings.notebook, snapshot, names, use_mmap)

    def snapshots(self) -> list[dict]:
        return list_snapshots(self.snapshot_dir, self.settings.notebook)

    def status(self) -> dict:
        reading = self.watcher.reader.read()
        snaps = self.snapshots()
        return {
            "memory": reading.to_dict(),
            "watching": self.watcher.running,
            "warn_percent": self.settings.warn_percent,
            "snapshot_percent": self.settings.snapshot_percent,
            "snapshot_dir": self.snapshot_dir,
            "notebook": self.settings.notebook,
            "latest_snapshot": None if not snaps else {k: snaps[0][k] for k in ("id", "created", "variables", "skipped")},
            "accelerators": _accelerators(),
        }

    def previous_death(self) -> str | None:
        """One line about the previous kernel of this notebook if it died near the limit."""
        beat = read_heartbeat(self.snapshot_dir, self.settings.notebook)
        if not beat or beat.get("clean_exit") or beat.get("pid") is None or pid_alive(beat["pid"]):
            return None
        snaps = self.snapshots()
        cause = "was killed, most likely by the out-of-memory killer," if (beat.get("percent") or 0) >= self.settings.warn_percent else "died"
        line = "The previous kernel of this notebook " + cause
        if beat.get("working_set") and beat.get("limit"):
            line += f" at {beat['working_set'] / GiB:.1f} of {beat['limit'] / GiB:.1f} GiB"
        if snaps:
            snap = snaps[0]
            when = time.strftime("%H:%M", time.localtime(snap["created_ts"]))
            line += f"; snapshot from {when} with {len(snap['variables'])} variables: run `%guard restore` to get them back."
        else:
            line += "; no snapshot was taken."
        return line


def read_gpus():
    """One NVML reading, on demand only (the watcher never touches NVML); the server's recording
    (COLAB_GUARD_NVML_RECORDING, for tests and demos) stands in for the driver where it set one."""
    from .nvml import GpuReader

    recording = os.environ.get("COLAB_GUARD_NVML_RECORDING")
    if recording:
        from .nvml_replay import ReplayNvml

        reader = GpuReader(ReplayNvml(recording))
    else:
        reader = GpuReader()
    try:
        return reader.read()
    finally:
        reader.shutdown()


def _accelerators() -> list[dict]:
    reading = read_gpus()
    if reading.status != "ok":
        return [{"kind": "none", "status": reading.status, "error": reading.error}]
    return reading.gpus


def _bar(percent: float) -> str:
    color = "#16a34a" if percent < 75 else "#d97706" if percent < 85 else "#dc2626"
    return (
        f'<div role="progressbar" aria-valuenow="{percent:.0f}" aria-valuemin="0" aria-valuemax="100" '
        f'style="background:#e5e7eb;width:240px;height:10px;display:inline-block;vertical-align:middle">'
        f'<div style="background:{color};width:{min(percent, 100):.0f}%;height:10px"></div></div>'
    )


class StatusView:
    """``%guard status`` rendered inline: the whole colab-guard UI where no JupyterLab panel loads."""

    def __init__(self, status: dict):
        self.status = status

    def _lines(self) -> list[str]:
        s = self.status
        m = s["memory"]
        lines = [
            f"Memory: {m['working_set'] / GiB:.2f} of {m['limit'] / GiB:.2f} GiB ({m['percent']:.0f}%, limit from {m['limit_source']})",
        ]
        for acc in s["accelerators"]:
            if acc.get("kind") == "gpu":
                lines.append(
                    f"GPU {acc['index']}: {acc['name']}, {acc['memory_used'] / GiB:.1f} of {acc['memory_total'] / GiB:.1f} GiB, "
                    f"{acc['utilization_gpu']}% busy"
                )
            else:
                lines.append("Accelerator: CPU only" + (f" ({acc['error']})" if acc.get("error") else ""))
        snap = s["latest_snapshot"]
        lines.append(
            f"Latest snapshot: {snap['id']} with {len(snap['variables'])} variables" if snap else "No snapshot of this notebook yet"
        )
        lines.append(
            f"Watcher: {'on' if s['watching'] else 'off'}; warns at {s['warn_percent']:.0f}%, snapshots at {s['snapshot_percent']:.0f}%"
        )
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        m = self.status["memory"]
        rows = "".join(f"<div>{html.escape(line)}</div>" for line in self._lines()[1:])
        return (
            '<div style="font-family:var(--jp-ui-font-family,sans-serif);font-size:13px">'
            f"<div><b>colab-guard</b> · memory {_bar(m['percent'])} "
            f"{m['working_set'] / GiB:.2f} / {m['limit'] / GiB:.2f} GiB ({m['percent']:.0f}%, {html.escape(m['limit_source'])})</div>"
            f"{rows}</div>"
        )


@magics_class
class GuardMagics(Magics):
    """``%guard``: colab-guard's commands."""

    @line_magic
    def guard(self, line: str):
        """colab-guard: %guard status | snapshot | list | restore [SNAPSHOT] [NAMES...] [--mmap]"""
        args = shlex.split(line)
        if not args:
            raise UsageError(USAGE)
        command, rest = args[0], args[1:]
        guard = _guard
        try:
            if command == "status":
                return StatusView(guard.status())
            if command == "snapshot":
                result = guard.snapshot()
                skipped = "".join(f"\n  skipped {n}: {why}" for n, why in sorted(result.skipped.items()))
                imports = len(result.manifest.get("modules", {}))
                print(
                    f"Saved {len(result.variables)} variables and {imports} imports to snapshot {result.id} "
                    f"({human_bytes(result.bytes_written)} written, {human_bytes(result.bytes_reused)} unchanged, "
                    f"{result.seconds:.2f}s){skipped}"
                )
                return None
            if command == "top":
                for name, size in guard.largest()[:20]:
                    print(f"{human_bytes(size):>10}  {name}")
                return None
            if command == "list":
                snaps = guard.snapshots()
                if not snaps:
                    print("No snapshot of this notebook yet.")
                for s in snaps:
                    print(f"{s['id']}  {s['created']}  {len(s['variables'])} variables  ({s['reason']})")
                return None
            if command == "restore":
                use_mmap = "--mmap" in rest
                rest = [a for a in rest if a != "--mmap"]
                snapshot = rest[0] if rest and rest[0][:8].isdigit() else None
                names = rest[1:] if snapshot else rest
                result = guard.restore(snapshot, names or None, use_mmap)
                print(f"Restored {len(result.restored) + len(result.modules)} variables from snapshot {result.snapshot}: {', '.join(result.modules + result.restored)}")
                for name, why in sorted(result.failed.items()):
                    print(f"  not restored {name}: {why}")
                for note in result.notes:
                    print(f"  note: {note}")
                return None
        except SnapshotError as exc:
            raise UsageError(f"colab-guard: {exc}") from None
        raise UsageError(f"unknown colab-guard command {command!r}\n{USAGE}")

    @cell_magic("guard")
    def guard_cell(self, line: str, cell: str):
        """%%guard off: run this cell without colab-guard stopping it near the memory limit."""
        if line.strip() != "off":
            raise UsageError("%%guard takes one option: %%guard off")
        guard = _guard
        guard.suppressed = True
        try:
            self.shell.ex(cell)
        finally:
            guard.suppressed = False


def load(shell) -> Guard:
    """Start colab-guard in this kernel (idempotent)."""
    global _guard
    if _guard is not None and _guard.shell is shell:
        return _guard
    try:
        settings = WatcherSettings.from_env()
    except ValueError as exc:
        raise UsageError(f"colab-guard: {exc}") from None
    _guard = Guard(shell, settings)
    shell.register_magics(GuardMagics)
    shell.events.register("pre_run_cell", _guard._pre_run)
    shell.events.register("post_run_cell", _guard._post_run)
    shell.set_custom_exc((MemoryLimitInterrupt,), _guard._show_interrupt)
    # Read before this kernel's own watcher replaces the heartbeat; shown in the first cell run,
    # since output sent while the kernel starts reaches no notebook.
    _guard.greeting = _guard.previous_death()
    if _guard.greeting:
        shell.events.register("pre_run_cell", _greet_once)
    _guard.watcher.start()
    _listen_for_snapshot_requests()
    return _guard


def _listen_for_snapshot_requests() -> None:
    """SIGUSR1 from the server (enforcing a time limit) asks for a snapshot before shutdown."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGUSR1"):
        return
    if signal.getsignal(signal.SIGUSR1) not in (signal.SIG_DFL, None):
        return  # the user's own handler wins

    def requested(signum, frame):
        guard = _guard
        if guard is not None:
            threading.Thread(target=guard.watcher.snapshot, args=("requested before shutdown",), daemon=True).start()

    signal.signal(signal.SIGUSR1, requested)


def _greet_once(*args):
    guard = _guard
    if guard is not None:
        guard.shell.events.unregister("pre_run_cell", _greet_once)
        guard._notify("warning", guard.greeting)


def unload(shell) -> None:
    global _guard
    if _guard is not None:
        _guard.watcher.stop(clean=True)
        shell.events.unregister("pre_run_cell", _guard._pre_run)
        shell.events.unregister("post_run_cell", _guard._post_run)
        shell.set_custom_exc((), None)
        _guard = None


def get_guard() -> Guard:
    """The running colab-guard of this kernel (``%load_ext colab_guard`` first)."""
    if _guard is None:
        raise RuntimeError("colab-guard is not loaded in this kernel: run %load_ext colab_guard")
    return _guard
