"""When to snapshot, and taking one off the watcher's thread: at the snapshot level once per
episode, early enough for memory that climbs fast, in the background while the kernel is idle,
and before a cell that needed more memory last time than is free now."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..contract.manifests import SnapshotError
from ..contract.settings import WatcherSettings
from ..contract.units import human_bytes
from ..readers.memory import MemoryReading
from ..snapshot.choose import nbytes_of, user_variables
from ..snapshot.pickling import SnapshotCancelled
from ..snapshot.writer import NothingToSave, SnapshotResult, take_snapshot
from .notebook_files import NotebookFiles
from .snapshot_deadline import WriteSpeed, must_start, seconds_left

# The snapshot's size is measured again once memory moved this much since it was last measured.
ESTIMATE_MOVED = 32 << 20
CANCEL_WAIT = 0.2  # the most a cell waits for a background snapshot to stop


class Snapshots:
    """Decides when to snapshot the user's variables and takes the snapshot on its own thread."""

    def __init__(
        self,
        namespace: dict[str, Any],
        hidden: dict[str, Any] | None,
        settings: WatcherSettings,
        files: NotebookFiles,
        cell_state: Callable[[], dict[str, Any]],
        running_growth: Callable[[], int],
        notify: Callable[[str, str], None],
        report: Callable[[str], None],
        taken: Callable[[], None],
    ):
        self.namespace, self.hidden, self.settings, self.files = namespace, hidden, settings, files
        self.cell_state = cell_state  # the kernel's hooks keep it: is a cell running, since when idle
        self.running_growth = running_growth  # what the running cell added to this kernel so far
        self.notify, self.report, self.taken = notify, report, taken
        self.at_percent: float | None = None  # level of this episode's last snapshot
        self.names: frozenset[Any] = frozenset()  # the names and objects the last snapshot saw
        self.last: SnapshotResult | None = None
        self.told_saved = False  # one "saved" line per memory episode in the cell's output
        self.write_speed = WriteSpeed()
        # the namespace may differ from the last snapshot (a cell ran since it started)
        self.dirty = False
        self._estimate: tuple[frozenset[Any], float, int, int] | None = None  # (signature, when, bytes, working set)
        self._thread: threading.Thread | None = None
        self._cancel: threading.Event | None = None  # cancels the snapshot running, if a background one
        self.background_at = 0.0
        self.reading: MemoryReading | None = None  # the watcher's latest, recorded with the snapshot

    # -- the thread
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a snapshot started on its own thread."""
        if self._thread is not None:
            self._thread.join(timeout)

    def start(self, reason: str, cancel: threading.Event | None = None, quiet: bool = False) -> None:
        """Snapshot on its own thread, so that sampling (and the critical check) goes on meanwhile."""
        self._cancel = cancel  # only a background snapshot can be cancelled
        self._thread = threading.Thread(target=self.take, args=(reason, cancel, quiet), name="colab-guard-snapshot", daemon=True)
        self._thread.start()

    # -- when
    def due_at_level(self, percent: float) -> bool:
        """Once per episode, again only if memory climbed further and the variables changed."""
        if self.at_percent is None:
            return True
        return percent >= self.at_percent + 5 and self.signature() != self.names

    def deadline_due(self, reading: MemoryReading, rate: float, interval: float) -> bool:
        """Memory climbs fast enough that a snapshot started later would not finish in time."""
        if rate <= 0 or not (self.dirty or self.signature() != self.names):
            return False
        level = reading.limit * self.settings.critical_percent / 100
        if seconds_left(reading.working_set, level, rate) > 60:
            return False  # far away: not worth measuring the variables on every reading
        return must_start(reading.working_set, level, rate, self.estimated_bytes(), self.write_speed.speed, interval)

    def background_due(self) -> bool:
        """Idle after a cell changed things: bring the snapshot up to date, throttled."""
        s, state = self.settings, self.cell_state()
        if not s.background_snapshots or not self.dirty or state.get("executing"):
            return False
        idle_since = state.get("idle_since")
        if idle_since is None or time.time() - idle_since < s.background_idle:
            return False
        last = self.last.seconds if self.last is not None else 0.0
        return time.monotonic() - self.background_at >= max(s.background_interval, 10 * last)

    def estimated_bytes(self) -> int:
        """What a snapshot would write now: the variables' sizes (recomputed when they change, and
        when memory moved since: a running cell grows a variable in place, same name, same id), and
        at least what the running cell added to this kernel, which mostly lands in variables (the
        sizes miss some of it: strings in a DataFrame's rows, objects inside a container's items)."""
        return max(self.running_growth(), self.variables_bytes())

    def variables_bytes(self) -> int:
        """The user's variables' sizes, measured again when they change or memory moved."""
        signature, now = self.signature(), time.monotonic()
        working_set = 0 if self.reading is None else self.reading.working_set
        last = self._estimate
        if last is None or last[0] != signature or now - last[1] > 5 or abs(working_set - last[3]) > ESTIMATE_MOVED:
            variables = user_variables(self.namespace, self.hidden)
            last = self._estimate = (signature, now, sum(nbytes_of(v) or 0 for v in list(variables.values())), working_set)
        return last[2]

    def signature(self) -> frozenset[Any]:
        """Which objects the user's names hold: rebinding or adding a variable changes it."""
        for _ in range(3):
            try:
                return frozenset((k, id(v)) for k, v in list(self.namespace.items()) if not k.startswith("_"))
            except RuntimeError:  # the running cell changed the namespace while we looked
                continue
        return frozenset()

    def changed(self) -> bool:
        """Whether the variables may differ from the last snapshot's."""
        return self.dirty or self.last is None or self.signature() != self.names

    # -- cells
    def cell_started(self) -> None:
        """A cell starts: stop a background snapshot, which must not slow it down or see it half-done.

        It stops within one 8 MiB chunk or one batch of objects; the cell waits for that (a few ms),
        so the snapshot never reads what the cell is changing.
        """
        self.told_saved = False  # a new cell's output may say "saved" once
        if self._cancel is not None:
            self._cancel.set()
            thread = self._thread
            if thread is not None and thread.is_alive() and thread is not threading.current_thread():
                thread.join(CANCEL_WAIT)

    def before_cell(self, reading: MemoryReading, growth: int) -> None:
        """A cell starts that added ``growth`` to memory last time: where that would pass the
        snapshot level now, snapshot before it runs; where it would pass the critical level, say so."""
        s = self.settings
        if reading.working_set + growth < reading.limit * s.snapshot_percent / 100:
            return
        free = max(0, reading.limit - reading.working_set)
        self.told_saved = True  # the warning below says it, once
        result = self.take("before a cell that needed more memory than is free") if self.changed() else self.last
        if reading.working_set + growth >= reading.limit * s.critical_percent / 100:
            saved = (
                "colab-guard saved your variables before it runs (`%guard restore` if the kernel dies)"
                if result is not None
                else "no snapshot could be taken"
            )
            self.notify(
                "warning",
                f"Last time this cell added {human_bytes(growth)} to memory; {human_bytes(free)} are free before the limit: "
                f"it may not fit. {saved}. Free memory first (`del NAME`, see `%guard top`) or stop it if it grows.",
            )

    # -- taking one
    def take(self, reason: str = "manual", cancel: threading.Event | None = None, quiet: bool = False) -> SnapshotResult | None:
        """Take a snapshot now; returns its result, or None with the reason reported."""
        reading = self.reading
        memory = (
            None if reading is None else {"working_set": reading.working_set, "limit": reading.limit, "percent": reading.percent}
        )
        self.at_percent = reading.percent if reading else 0.0
        self.names = self.signature()
        dirty, self.dirty = self.dirty, False
        # decided when it starts: the episode may end (and the flag reset) while it is written
        announce = reason not in ("manual", "background") and not self.told_saved and not quiet
        if announce:
            self.told_saved = True  # later ones this episode are in %guard list
        try:
            result = take_snapshot(
                self.namespace,
                self.files.snapshot_dir,
                self.files.notebook,
                self.settings.keep_snapshots,
                self.hidden,
                memory,
                reason,
                cancel,
                live=bool(self.cell_state().get("executing")),
            )
        except SnapshotCancelled:
            self.dirty = True
            return None
        except NothingToSave as exc:  # an empty namespace: nothing to protect, no slot taken
            self.report(str(exc))
            return None
        except (SnapshotError, OSError) as exc:
            self.dirty = self.dirty or dirty
            self.report(str(exc))
            if cancel is None:
                self.notify("error", f"colab-guard could not snapshot your variables: {exc}")
            return None
        self.last = result
        self.write_speed.update(result.bytes_written, result.seconds)
        self.taken()  # the server waits for the heartbeat naming it when it asked for the snapshot
        if announce:
            self.notify(
                "warning",
                f"colab-guard saved {len(result.variables)} variables ({reason}) in {result.seconds:.1f}s. "
                "If the kernel dies, run `%guard restore` in the new kernel.",
            )
        return result
