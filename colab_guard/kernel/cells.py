"""Memory by cell: for each cell run, how much memory it added and the peak while it ran.

Two figures each: the container's working set (what the OOM killer counts; other processes count
too) and this kernel process's own resident memory. The kernel's peak is exact where Linux allows
resetting the process's high-water mark (``/proc/self/clear_refs``, then ``VmHWM``); the working
set's peak is the highest of the watcher's readings while the cell ran (every second, faster near
the limit) and the readings at its start and end.
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from ..contract.units import human_bytes

KEEP = 20  # cells kept
REMEMBERED = 500  # cells whose last memory need is remembered, for the prediction
IN_HEARTBEAT = 10  # of which the heartbeat carries the last
FIRST_LINE = 80  # characters of a cell's first line kept


@dataclass
class CellRecord:
    """One cell run: its memory before, after and at its peak."""

    number: int | None
    first_line: str
    started: float
    seconds: float | None
    working_set_before: int | None
    working_set_after: int | None
    working_set_peak: int | None
    rss_before: int | None
    rss_after: int | None
    rss_peak: int | None
    peak_exact: bool  # the kernel's peak from the high-water mark, not from samples
    running: bool = False

    @property
    def growth(self) -> int | None:
        """How much the working set grew across the cell (negative: it freed memory)."""
        if self.working_set_before is None or self.working_set_after is None:
            return None
        return self.working_set_after - self.working_set_before

    @property
    def rss_growth(self) -> int | None:
        if self.rss_before is None or self.rss_after is None:
            return None
        return self.rss_after - self.rss_before

    def label(self) -> str:
        """``[7] big = np.ones(...)``: how a message names the cell."""
        number = f"[{self.number}]" if self.number is not None else "[?]"
        return f"{number} `{self.first_line}`" if self.first_line else number

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(growth=self.growth, rss_growth=self.rss_growth)
        return out


def first_line(source: str | None) -> str:
    """The first line that says something (not blank, not a comment), shortened."""
    for line in (source or "").splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            return text if len(text) <= FIRST_LINE else text[: FIRST_LINE - 1] + "…"
    return ""


def _reset_peak() -> bool:
    """Reset this process's resident-memory high-water mark (Linux >= 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int | None:
    """VmHWM: this process's highest resident memory since the last reset."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class CellLog:
    """The last cells' memory, fed by the kernel's pre/post_run_cell hooks and the watcher's readings."""

    def __init__(self, read_working_set: Callable[[], int | None], keep: int = KEEP) -> None:
        self.read_working_set = read_working_set  # () -> int | None: a fresh reading
        self.cells: collections.deque[CellRecord] = collections.deque(maxlen=keep)
        self.current: CellRecord | None = None
        self._current_key: str | None = None
        # cell source -> what it added to the kernel's memory at its peak, last time it ran
        self.needs: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._process = psutil.Process()
        self._lock = threading.Lock()

    def _rss(self) -> int | None:
        try:
            return int(self._process.memory_info().rss)
        except psutil.Error:
            return None

    @staticmethod
    def key(source: str | None) -> str:
        return hashlib.blake2b((source or "").encode(), digest_size=16).hexdigest()

    def predicted_growth(self, source: str | None) -> int | None:
        """What this cell added to the kernel's memory at its peak the last time it ran, if it did."""
        return self.needs.get(self.key(source))

    def start(self, number: int | None, source: str | None) -> None:
        """A cell starts: its memory now, and a fresh high-water mark."""
        self._current_key = self.key(source)
        exact = _reset_peak()
        rss = self._rss()
        ws = self.read_working_set()
        with self._lock:
            self.current = CellRecord(
                number, first_line(source), time.time(), None, ws, None, ws, rss, None, rss, exact, running=True
            )

    def sample(self, working_set: int) -> None:
        """A watcher reading while the cell runs: the working set's peak so far (and the kernel's,
        where there is no high-water mark to read)."""
        cell = self.current
        if cell is None:
            return
        with self._lock:
            cell.working_set_peak = max(cell.working_set_peak or 0, working_set)
            if not cell.peak_exact:
                rss = self._rss()
                if rss is not None:
                    cell.rss_peak = max(cell.rss_peak or 0, rss)

    def finish(self, number: int | None = None) -> CellRecord | None:
        """The cell ended: its memory now, its peaks, its prompt number where known; kept among the last cells."""
        cell = self.current
        if cell is None:
            return None
        if number is not None:
            cell.number = number
        ws, rss = self.read_working_set(), self._rss()
        with self._lock:
            cell.seconds = round(time.time() - cell.started, 3)
            cell.working_set_after = ws
            cell.rss_after = rss
            peaks = [v for v in (cell.working_set_peak, ws) if v is not None]
            cell.working_set_peak = max(peaks) if peaks else None
            hwm = _peak_rss() if cell.peak_exact else None
            rss_peaks = [v for v in (cell.rss_peak, rss, hwm) if v is not None]
            cell.rss_peak = max(rss_peaks) if rss_peaks else None
            cell.running = False
            self.cells.append(cell)
            if self._current_key is not None and cell.rss_before is not None and cell.rss_peak is not None:
                self.needs[self._current_key] = max(0, cell.rss_peak - cell.rss_before)
                self.needs.move_to_end(self._current_key)
                while len(self.needs) > REMEMBERED:
                    self.needs.popitem(last=False)
            self.current = None
        return cell

    def running_growth(self) -> int:
        """What the running cell has added to this kernel's memory so far (0 when none runs)."""
        cell = self.current
        if cell is None or cell.rss_before is None:
            return 0
        rss = self._rss()
        return 0 if rss is None else max(0, rss - cell.rss_before)

    def recent(self) -> list[CellRecord]:
        """The last cells, oldest first, with the running one (its figures so far) last."""
        with self._lock:
            out = list(self.cells)
            if self.current is not None:
                out.append(self.current)
        return out

    def grew_most(self, own_memory_now: int | None = None) -> tuple[CellRecord, int] | None:
        """The cell that grew this kernel's own memory most among the last ones (the running one
        counts what it added so far), with that growth; None when no cell grew it.

        The kernel's own memory, not the container's: another notebook's growth is not this one's cells'.
        """
        best: tuple[CellRecord, int] | None = None
        cells = self.recent()
        if own_memory_now is None and cells and cells[-1].running:
            own_memory_now = self._rss()
        for cell in cells:
            growth = cell.rss_growth
            if cell.running and own_memory_now is not None and cell.rss_before is not None:
                growth = own_memory_now - cell.rss_before
            if growth is not None and growth > 0 and (best is None or growth > best[1]):
                best = (cell, growth)
        return best

    def blame(self, own_memory_now: int | None = None) -> str:
        """A sentence naming the cell that grew memory most, or "" when none did."""
        found = self.grew_most(own_memory_now)
        if found is None:
            return ""
        cell, growth = found
        when = "so far, still running" if cell.running else f"peak {human_bytes(cell.rss_peak or 0)}"
        return f"The cell that grew memory most: {cell.label()} (+{human_bytes(growth)}, {when})."

    def for_heartbeat(self) -> list[dict[str, Any]]:
        """The last cells, compact, for the heartbeat the server reads."""
        keys = (
            "number",
            "first_line",
            "started",
            "seconds",
            "growth",
            "working_set_peak",
            "rss_growth",
            "rss_peak",
            "running",
        )
        return [{k: cell.to_dict()[k] for k in keys} for cell in self.recent()[-IN_HEARTBEAT:]]
