"""The kernel-side memory watcher: reads memory on a daemon thread and acts on it.

A daemon thread reads the container's working set against the real limit (the same reader as the
server's) once a second, ten times a second past the warning level, and on each reading decides:
warn (``memory_advice``), snapshot (``snapshots``), stop the running cell past the critical
level, keep RLIMIT_DATA at the headroom (``data_limit``), write the heartbeat (``heartbeats``).
"""

from __future__ import annotations

import atexit
import collections
import threading
import time
from collections.abc import Callable
from typing import Any

from ..contract.settings import WatcherSettings
from ..readers.memory import MemoryReader, MemoryReading
from ..snapshot.writer import SnapshotResult
from .cells import CellLog
from .data_limit import set_data_limit
from .heartbeats import HeartbeatWriter, heartbeat
from .memory_advice import SUSTAINED_SECONDS, MemoryAdvice
from .neighbours import Neighbours
from .notebook_files import NotebookFiles
from .snapshot_deadline import GrowthRate
from .snapshots import Snapshots

# The fastest growth (bytes/s) the watcher plans for: a cell filling memory at 1 GB/s must not get
# from "far from the limit" to the OOM killer between two readings. Far from a large limit the
# watcher still reads once a second; close to a small one, up to every 10 ms.
ASSUMED_GROWTH = 2e9
# Who grows memory is read only from this many points below the warning level: an idle container
# costs nothing, and an episode's growth still has readings from before it began.
NEIGHBOURS_BELOW_WARN = 15.0
# The working set's recent history kept for the projection to the limit: five minutes, one a second.
TREND_SAMPLES = 300


class Watcher:
    """Watches memory on a daemon thread; calls ``notify(level, message)`` for the user."""

    def __init__(
        self,
        namespace: dict[str, Any],
        settings: WatcherSettings,
        snapshot_dir: str,
        hidden: dict[str, Any] | None = None,
        notify: Callable[[str, str], None] = lambda level, message: None,
        reader: MemoryReader | None = None,
        interrupt: Callable[[MemoryReading], bool] | None = None,
        cells: CellLog | None = None,
        files: NotebookFiles | None = None,
    ) -> None:
        self.namespace, self.hidden = namespace, hidden
        self.settings = settings
        self.files = files or NotebookFiles(snapshot_dir, settings)
        self.notify = notify
        self.reader = reader or MemoryReader(config_limit=settings.memory_limit)
        self.peak_percent = 0.0
        self.warned = False  # one warning per episode above the warning level
        self.last_error: str | None = None
        # stops the running cell; returns whether it did (no cell running, or turned off: False)
        self.interrupt = interrupt
        self.interrupted = False  # one interruption per episode above the snapshot level
        self.interruptions: list[dict[str, Any]] = []
        self.growth = GrowthRate()
        # growth held for this long before the user is told to stop a cell: a data load is a burst
        self.sustained = GrowthRate(window=SUSTAINED_SECONDS)
        self.neighbours = Neighbours()  # who in the container grows: this kernel, or another process
        self.cell_state: dict[str, Any] = {"executing": False, "idle_since": time.time()}  # set by the kernel's hooks
        self.cells = cells  # a CellLog: each reading counts toward the running cell's peak
        self.snapshots = Snapshots(
            namespace,
            hidden,
            settings,
            self.files,
            lambda: self.cell_state,  # replaced, not changed, by the kernel's hooks
            running_growth=lambda: 0 if self.cells is None else self.cells.running_growth(),
            notify=notify,
            report=self._report,
            taken=self._write_heartbeat,
        )
        self.advice = MemoryAdvice(
            settings,
            self.files,
            self.neighbours,
            self.growth,
            self.sustained,
            self.snapshots.write_speed,
            self.snapshots.estimated_bytes,
            cells_blame=lambda: self.cells.blame() if self.cells is not None else "",
        )
        self.heartbeats = HeartbeatWriter(self.files, settings.shared_heartbeats)
        self._heartbeat_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # (epoch seconds, working set), one a second at most, for the projected time to the limit
        self.samples: collections.deque[tuple[float, int]] = collections.deque(maxlen=TREND_SAMPLES)

    # -- where files go, and what the parts found
    @property
    def snapshot_dir(self) -> str:
        return self.files.snapshot_dir

    @property
    def heartbeat_path(self) -> str:
        return self.files.heartbeat_path

    @property
    def last(self) -> MemoryReading | None:
        """The latest reading (the snapshot records it with the snapshot's memory)."""
        return self.snapshots.reading

    @last.setter
    def last(self, reading: MemoryReading | None) -> None:
        self.snapshots.reading = reading

    @property
    def last_snapshot(self) -> SnapshotResult | None:
        return self.snapshots.last

    def _report(self, error: str) -> None:
        self.last_error = error

    # -- life cycle
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="colab-guard-watcher", daemon=True)
        self._thread.start()
        atexit.register(self.stop, clean=True)

    def stop(self, clean: bool = True) -> None:
        """Stop watching; a clean stop marks the heartbeat so no one mistakes it for a crash."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        self._thread = None
        if clean:
            self._write_heartbeat(clean=True)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive any one bad reading
                self.last_error = f"{type(exc).__name__}: {exc}"
            self._stop.wait(self._interval())

    def _interval(self) -> float:
        """Sample often enough that memory filling at ASSUMED_GROWTH is seen before the critical level."""
        s, reading = self.settings, self.last
        if reading is None:
            return s.interval
        if reading.percent >= s.snapshot_percent:
            return s.critical_interval
        base = s.fast_interval if reading.percent >= s.warn_percent else s.interval
        to_critical = reading.limit * s.critical_percent / 100 - reading.working_set
        return max(s.critical_interval, min(base, to_critical / ASSUMED_GROWTH / 2))

    # -- one step
    def check(self) -> None:
        """Read memory once and act on it: warn, snapshot, stop the cell, heartbeat."""
        reading = self._read()
        percent, s, snapshots = reading.percent, self.settings, self.snapshots
        if percent < s.warn_percent:
            # the episode is over: the next crossing warns and snapshots again
            if self.warned:
                snapshots.told_saved = False
            self.warned, snapshots.at_percent, self.advice.told_headroom = False, None, False
            self.neighbours.end_episode()
        elif not self.warned:
            self.warned = True
            self.neighbours.begin_episode()
            self._sample_neighbours(reading, force=True)
            self._warn_high(reading, first=True)
        if percent >= s.warn_percent and not self.advice.told_headroom:
            self._warn_high(reading, first=False)
        if not snapshots.running:
            self._maybe_snapshot(reading)
        self._maybe_interrupt(reading)
        if s.hard_limit:
            set_data_limit(reading.limit * s.critical_percent / 100 - reading.working_set)
        now = time.monotonic()
        busy_beat = percent >= s.warn_percent and now - self._heartbeat_at >= s.fast_interval
        if now - self._heartbeat_at >= s.heartbeat_interval or busy_beat:
            if not snapshots.running:
                self.files.follow_rename()
            self._write_heartbeat()
            self._heartbeat_at = now

    def _read(self) -> MemoryReading:
        """One reading, recorded where each part looks for it."""
        reading = self.reader.read()
        self.last = reading
        self.growth.add(time.monotonic(), reading.working_set)
        self.sustained.add(time.monotonic(), reading.working_set)
        if reading.percent >= self.settings.warn_percent - NEIGHBOURS_BELOW_WARN:
            # fresh at the critical level, where the decision to stop a cell rests on it
            self._sample_neighbours(reading, force=reading.percent >= self.settings.critical_percent)
        wall = time.time()
        if not self.samples or wall - self.samples[-1][0] >= 1.0:
            self.samples.append((wall, reading.working_set))
        if self.cells is not None:
            self.cells.sample(reading.working_set)
        self.peak_percent = max(self.peak_percent, reading.percent)
        return reading

    def _sample_neighbours(self, reading: MemoryReading, force: bool) -> None:
        """Who grows memory, read only in a container (a memory cgroup sets the limit): on a bare host
        every process of the machine is a neighbour, too many to read several times a second."""
        path = None if reading.cgroup is None else reading.cgroup.get("path")
        if path is not None and reading.limit_source.startswith("cgroup"):
            self.neighbours.sample(path, force=force)

    def _maybe_snapshot(self, reading: MemoryReading) -> None:
        """At the snapshot level, by the deadline memory's growth sets, or in the background."""
        percent, snapshots = reading.percent, self.snapshots
        if percent >= self.settings.snapshot_percent and snapshots.due_at_level(percent):
            snapshots.at_percent = percent
            snapshots.start(f"memory at {percent:.0f}% of the limit")
        elif snapshots.deadline_due(reading, self.growth.rate, self._interval()):
            rate = self.growth.rate
            # started early on growth alone: said in the cell's output only from the warning level
            quiet = percent < self.settings.warn_percent
            snapshots.start(f"memory at {percent:.0f}% of the limit and growing at {rate / 1e6:.0f} MB/s", quiet=quiet)
        elif snapshots.background_due():
            snapshots.background_at = time.monotonic()
            snapshots.start("background", threading.Event())

    def _maybe_interrupt(self, reading: MemoryReading) -> None:
        """Past the critical level (the episode's snapshot taken or at least started), stop the
        running cell once, unless its memory is flat and another process grows."""
        s = self.settings
        if reading.percent < s.snapshot_percent:
            self.interrupted = False
        elif (
            reading.percent >= s.critical_percent
            and s.interrupt_cells
            and not self.interrupted
            and self.interrupt is not None
            and self.neighbours.verdict() in ("here", "unknown")  # never stop a notebook whose memory is flat
        ):
            self.interrupted = self.interrupt(reading)
            if self.interrupted:
                self.interruptions.append({"time": time.time(), "percent": reading.percent})

    def _warn_high(self, reading: MemoryReading, first: bool) -> None:
        line = self.advice.high(reading, first)
        if line:
            self.notify("warning", line)

    # -- the kernel's hooks and commands
    def cell_started(self) -> None:
        """A cell starts: stop a background snapshot (see ``Snapshots.cell_started``)."""
        self.snapshots.cell_started()

    def cell_finished(self) -> None:
        """A cell ran: the namespace may have changed since the last snapshot."""
        self.snapshots.dirty = True

    def protect_before(self, growth: int | None) -> None:
        """A cell starts that added ``growth`` to memory last time: snapshot first where it may not fit."""
        if not growth:
            return
        try:
            reading = self.reader.read()
        except (OSError, ValueError, KeyError):
            return
        self.last = reading
        self.snapshots.before_cell(reading, growth)

    def snapshot(
        self, reason: str = "manual", cancel: threading.Event | None = None, quiet: bool = False
    ) -> SnapshotResult | None:
        """Take a snapshot now; returns its result, or None with the reason in ``last_error``."""
        return self.snapshots.take(reason, cancel, quiet)

    @property
    def snapshot_running(self) -> bool:
        return self.snapshots.running

    def wait_snapshot(self, timeout: float | None = None) -> None:
        """Wait for a snapshot the watcher started in the background."""
        self.snapshots.wait(timeout)

    def blame(self, working_set: int) -> str:
        """Who grew memory: this kernel's cell, or another process."""
        return self.advice.blame()

    def _estimated_bytes(self) -> int:
        return self.snapshots.estimated_bytes()

    def _variables_bytes(self) -> int:
        return self.snapshots.variables_bytes()

    def _write_heartbeat(self, clean: bool = False) -> None:
        last = self.snapshots.last
        beat = heartbeat(
            self.last, self.files.notebook, self.peak_percent, None if last is None else last.id, self.cell_state, clean
        )
        error = self.heartbeats.write(beat, [] if self.cells is None else self.cells.for_heartbeat())
        if error:
            self.last_error = error
