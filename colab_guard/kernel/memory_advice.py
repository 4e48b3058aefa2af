"""What the watcher tells the user about memory: the "memory is high" line with who grows it, and
the advice to stop a cell or free memory, said only on evidence."""

from __future__ import annotations

from collections.abc import Callable

from ..contract.settings import WatcherSettings
from ..contract.units import human_bytes
from ..readers.memory import MemoryReading
from .gpu_oom import kernels_by_pid
from .neighbours import Neighbours, process_name
from .notebook_files import NotebookFiles
from .snapshot_deadline import SNAPSHOT_MEMORY, GrowthRate, WriteSpeed, seconds_left, snapshot_seconds

# A "stop the cell" warning needs growth held over this long, not a one-second burst of a data load.
SUSTAINED_SECONDS = 3.0


class MemoryAdvice:
    """Words about memory, from the watcher's evidence: growth, neighbours, cells, snapshot speed."""

    def __init__(
        self,
        settings: WatcherSettings,
        files: NotebookFiles,
        neighbours: Neighbours,
        growth: GrowthRate,
        sustained: GrowthRate,
        write_speed: WriteSpeed,
        estimated_bytes: Callable[[], int],
        cells_blame: Callable[[], str],
    ):
        self.settings, self.files, self.neighbours = settings, files, neighbours
        self.growth, self.sustained, self.write_speed = growth, sustained, write_speed
        self.estimated_bytes, self.cells_blame = estimated_bytes, cells_blame
        self.told_headroom = False  # one "a snapshot cannot make it" warning per episode

    def high(self, reading: MemoryReading, first: bool) -> str | None:
        """The "memory is high" line, once per episode, with the advice to stop a cell once too (in
        the same line where both are due at the crossing); None when there is nothing new to say."""
        advice = None if self.told_headroom else self.headroom_warning(reading)
        if advice:
            self.told_headroom = True
        if not (first or advice):
            return None
        line = self.memory_line(reading, "Memory is high")
        return f"{line} But {advice}." if advice else line

    def headroom_warning(self, reading: MemoryReading) -> str | None:
        """What to do, said before the limit, when a snapshot could not be written in time or memory.

        "Stop the cell" is said only on evidence: growth held for ``SUSTAINED_SECONDS``, in this kernel.
        """
        level = reading.limit * self.settings.critical_percent / 100
        if level - reading.working_set < SNAPSHOT_MEMORY:
            return "there is too little memory left for a snapshot: free memory now (`del NAME`, see `%guard top`)"
        if self.neighbours.verdict() not in ("here", "unknown") or not self.sustained.held(SUSTAINED_SECONDS):
            return None
        rate = min(self.growth.rate, self.sustained.rate)
        needed = snapshot_seconds(self.estimated_bytes(), self.write_speed.speed)
        left = seconds_left(reading.working_set, level, rate)
        if rate > 0 and left < needed:
            return (
                f"memory grows faster ({rate / 1e6:.0f} MB/s) than your variables can be saved "
                f"(about {needed:.0f}s): stop the cell (interrupt the kernel) or free memory now"
            )
        return None

    def who_grows(self) -> str:
        """A sentence naming what grows memory when it is not this kernel ("" when it is, or unknown)."""
        other = self.neighbours.top_other() if self.neighbours.verdict() == "elsewhere" else None
        if other is None:
            return ""
        beat = kernels_by_pid(self.files.snapshot_dir, self.settings.shared_heartbeats).get(other.pid)
        what = (
            f"the kernel of {beat.get('notebook') or 'another notebook'} (pid {other.pid})"
            if beat
            else f"{process_name(other.pid)} (pid {other.pid}), not a notebook kernel"
        )
        return f"Memory grows in {what} (+{human_bytes(other.growth)} lately); this notebook's memory is flat."

    def at_risk(self) -> str:
        """Which process the OOM killer would end first, said when it is this kernel."""
        target = self.neighbours.oom_target()
        own = self.neighbours.own_pids()
        if target is not None and target in own and len(self.neighbours.history[-1][1]) > 1:
            return "The out-of-memory killer would end this kernel first (it holds the most memory)."
        return ""

    def blame(self) -> str:
        """Who grew memory: this kernel's cell, or another process."""
        return self.who_grows() or self.cells_blame()

    def memory_line(self, reading: MemoryReading, prefix: str) -> str:
        gib = 1 << 30
        blame = " ".join(part for part in (self.blame(), self.at_risk()) if part)
        return (
            f"{prefix}: {reading.working_set / gib:.1f} of {reading.limit / gib:.1f} GiB "
            f"({reading.percent:.0f}%, limit from {reading.limit_source}). "
            + (f"{blame} " if blame else "")
            + f"colab-guard will snapshot your variables at {self.settings.snapshot_percent:.0f}%."
        )
