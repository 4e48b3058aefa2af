"""``%guard monitor``: one compact status line in the cell's output, updated in place.

As progress bars do, the line is displayed once with a display id and then replaced by
``update_display_data`` messages, from a daemon thread, every few seconds until ``%guard monitor
off`` or the kernel ends. Each update reads what is already at hand: the watcher's latest memory
reading and growth, the meter's latest GPU reading (the meter reads NVML, not the monitor), the
countdowns from the cell state and the server's state file. Its cost: ``benchmarks/monitor_cost.py``.
"""

from __future__ import annotations

import html
import threading
import time
from typing import TYPE_CHECKING, Any

from ..usage.trend import project_time_to_limit
from . import panel_format, runtime

if TYPE_CHECKING:
    from .guard import Guard

DEFAULT_INTERVAL = 5.0
MIN_INTERVAL = 1.0


def monitor_line(guard: Guard, now: float | None = None) -> str:
    """Like "colab-guard · T4 3% · RAM 9.1/12.7 GiB (72%) · limit in ~14 min · ends in 9 h 55 min · cell [7] 2 min"."""
    now = time.time() if now is None else now
    parts = ["colab-guard"]
    meter = guard.meter
    accelerators = meter.accelerators
    gpus = [a for a in accelerators if a.get("kind") == "gpu"]
    acc = panel_format.accelerator_short_summary(accelerators)
    if gpus:
        utils = [g["utilization_gpu"] for g in gpus if g.get("utilization_gpu") is not None]
        acc += f" {panel_format.format_percent(max(utils))}" if utils else ""
    parts.append(acc)
    reading = guard.watcher.last
    if reading is not None:
        parts.append(
            f"RAM {panel_format.format_bytes_pair(reading.working_set, reading.limit)} ({panel_format.format_percent(reading.percent)})"
        )
        samples = list(guard.watcher.samples)
        projection = project_time_to_limit([t for t, _ in samples], [w for _, w in samples], reading.limit)
        if projection is not None:
            parts.append(f"limit in ~{panel_format.format_duration(projection.seconds)}")
    server = runtime.server_state(guard.settings, guard.snapshot_dir, now)
    kind = guard.environment_kind
    life = runtime.lifetime(guard.settings, kind, server, now)
    if life["seconds_left"] is not None:
        parts.append(f"ends in {panel_format.format_duration(life['seconds_left'])}")
    idle = runtime.idle(guard.settings, kind, server, guard.identity.kernel_id, guard.watcher.cell_state.get("idle_since"), now)
    if idle["seconds_left"] is not None:
        parts.append(f"idle {panel_format.format_countdown(idle['seconds_left'])}")
    current = guard.cells.current
    if current is not None:
        parts.append(f"cell [{current.number}] {panel_format.format_duration(now - current.started)}")
    if meter.cost.low_streak >= guard.settings.low_utilization_minutes * 60:
        found = meter.cost.diagnosis()
        parts.append(f"GPU idle: {found.cause}" if found else "GPU idle")
    return " · ".join(parts)


class Monitor:
    """Keeps one display updated with ``monitor_line`` on a daemon thread."""

    def __init__(self, guard: Guard, interval: float = DEFAULT_INTERVAL) -> None:
        self.guard = guard
        self.interval = max(MIN_INTERVAL, interval)
        self.handle = None
        self.updates = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _bundle(line: str) -> dict[str, Any]:
        return {
            "text/plain": line,
            "text/html": f'<div style="font-family:var(--jp-code-font-family,monospace);font-size:12px">{html.escape(line)}</div>',
        }

    def start(self) -> None:
        """Show the line in the running cell's output, then keep it current."""
        from IPython.display import display

        bundle = self._bundle(monitor_line(self.guard))
        self.handle = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call]  # IPython's, untyped
        self._thread = threading.Thread(target=self._run, name="colab-guard-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                assert self.handle is not None
                self.handle.update(self._bundle(monitor_line(self.guard)), raw=True)
                self.updates += 1
            except Exception as exc:  # noqa: BLE001 - the line must outlive any one bad reading
                self.last_error = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        """Stop updating; the line keeps its last text."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
