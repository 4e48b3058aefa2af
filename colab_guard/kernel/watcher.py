"""The kernel-side memory watcher: warns, and snapshots the variables before the OOM killer strikes.

A daemon thread reads the container's working set against the real limit (the same reader as the
server's) once a second, ten times a second past the warning level. It also keeps a small
heartbeat file beside the snapshots, so that a kernel (or a whole container) killed by the OOM
killer leaves evidence of what memory looked like just before.
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
from collections.abc import Callable

from ..contract.files import write_json_atomic
from ..contract.heartbeat import FORMAT as HEARTBEAT_FORMAT
from ..contract.heartbeat import Heartbeat, cells_path, heartbeat_path, make_private
from ..contract.manifests import SnapshotError
from ..contract.ownership import notebook_dir
from ..contract.renames import finish_rename, renamed_to
from ..contract.settings import WatcherSettings
from ..contract.units import human_bytes
from ..readers.memory import MemoryReader, MemoryReading
from ..snapshot.choose import nbytes_of, user_variables
from ..snapshot.pickling import SnapshotCancelled
from ..snapshot.writer import NothingToSave, SnapshotResult, take_snapshot
from .gpu_oom import kernels_by_pid
from .neighbours import Neighbours, process_name
from .schedule import SNAPSHOT_MEMORY, GrowthRate, WriteSpeed, must_start, seconds_left, snapshot_seconds

# The fastest growth (bytes/s) the watcher plans for: a cell filling memory at 1 GB/s must not get
# from "far from the limit" to the OOM killer between two readings. Far from a large limit the
# watcher still reads once a second; close to a small one, up to every 10 ms.
ASSUMED_GROWTH = 2e9
# Who grows memory is read only from this many points below the warning level: an idle container
# costs nothing, and an episode's growth still has readings from before it began.
NEIGHBOURS_BELOW_WARN = 15.0
# A "stop the cell" warning needs growth held over this long, not a one-second burst of a data load.
SUSTAINED_SECONDS = 3.0
# The snapshot's size is measured again once memory moved this much since it was last measured.
ESTIMATE_MOVED = 32 << 20
CANCEL_WAIT = 0.2  # the most a cell waits for a background snapshot to stop
# The working set's recent history kept for the projection to the limit: five minutes, one a second.
TREND_SAMPLES = 300


class Watcher:
    """Watches memory on a daemon thread; calls ``notify(level, message)`` for the user."""

    def __init__(
        self,
        namespace: dict,
        settings: WatcherSettings,
        snapshot_dir: str,
        hidden: dict | None = None,
        notify: Callable[[str, str], None] = lambda level, message: None,
        reader: MemoryReader | None = None,
        interrupt: Callable[[object], bool] | None = None,
        cells=None,
    ):
        self.namespace, self.hidden = namespace, hidden
        self.settings = settings
        self.snapshot_dir = snapshot_dir
        self.notify = notify
        self.reader = reader or MemoryReader(config_limit=settings.memory_limit)
        self.last: MemoryReading | None = None
        self.peak_percent = 0.0
        self.warned = False  # one warning per episode above the warning level
        self.told_headroom = False  # one "a snapshot cannot make it" warning per episode
        self.snapshot_at_percent: float | None = None  # level of this episode's last snapshot
        self.snapshot_names: frozenset = frozenset()
        self.last_snapshot: SnapshotResult | None = None
        self.last_error: str | None = None
        # stops the running cell; returns whether it did (no cell running, or turned off: False)
        self.interrupt = interrupt
        self.interrupted = False  # one interruption per episode above the snapshot level
        self.interruptions: list[dict] = []
        self._snapshotting: threading.Thread | None = None
        self.growth = GrowthRate()
        # growth held for this long before the user is told to stop a cell: a data load is a burst
        self.sustained = GrowthRate(window=SUSTAINED_SECONDS)
        self.neighbours = Neighbours()  # who in the container grows: this kernel, or another process
        self.told_saved = False  # one "saved" line per memory episode in the cell's output
        self.write_speed = WriteSpeed()
        # the namespace may differ from the last snapshot (a cell ran since it started)
        self.dirty = False
        self._estimate: tuple[frozenset, float, int, int] | None = None  # (signature, when, bytes, working set)
        self._background: threading.Event | None = None  # cancels the snapshot running, if a background one
        self._background_at = 0.0
        self.cell_state: dict = {"executing": False, "idle_since": time.time()}  # set by the kernel's hooks
        self._beat_lock = threading.Lock()  # the watcher and snapshot threads both write heartbeats
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heartbeat_at = 0.0
        self._made_private = False  # the read bits of an earlier shared heartbeat taken back
        self.heartbeat_path = heartbeat_path(snapshot_dir, settings.notebook)
        self.cells = cells  # a CellLog: each reading counts toward the running cell's peak
        # (epoch seconds, working set), one a second at most, for the projected time to the limit
        self.samples: collections.deque[tuple[float, int]] = collections.deque(maxlen=TREND_SAMPLES)

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
        """Read memory once and act on it: warn, snapshot, heartbeat."""
        reading = self.reader.read()
        self.last = reading
        self.growth.add(time.monotonic(), reading.working_set)
        self.sustained.add(time.monotonic(), reading.working_set)
        cgroup_path = None if reading.cgroup is None else reading.cgroup.get("path")
        # only in a container (a memory cgroup sets the limit): on a bare host every process of the
        # machine is a neighbour, too many to read several times a second
        in_container = cgroup_path is not None and reading.limit_source.startswith("cgroup")
        if in_container and reading.percent >= self.settings.warn_percent - NEIGHBOURS_BELOW_WARN:
            # fresh at the critical level, where the decision to stop a cell rests on it
            self.neighbours.sample(cgroup_path, force=reading.percent >= self.settings.critical_percent)
        wall = time.time()
        if not self.samples or wall - self.samples[-1][0] >= 1.0:
            self.samples.append((wall, reading.working_set))
        if self.cells is not None:
            self.cells.sample(reading.working_set)
        percent = reading.percent
        self.peak_percent = max(self.peak_percent, percent)
        s = self.settings
        if percent < s.warn_percent:
            # the episode is over: the next crossing warns and snapshots again
            if self.warned:
                self.told_saved = False
            self.warned, self.snapshot_at_percent, self.told_headroom = False, None, False
            self.neighbours.end_episode()
        elif not self.warned:
            self.warned = True
            self.neighbours.begin_episode()
            if in_container:
                self.neighbours.sample(cgroup_path, force=True)
            self._warn_high(reading, first=True)
        if percent >= s.warn_percent and not self.told_headroom:
            self._warn_high(reading, first=False)
        if not self.snapshot_running:
            if percent >= s.snapshot_percent and self._snapshot_due(percent):
                self.snapshot_at_percent = percent
                self._start_snapshot(f"memory at {percent:.0f}% of the limit")
            elif self._deadline_due(reading):
                rate = self.growth.rate
                # started early on growth alone: said in the cell's output only from the warning level
                quiet = percent < s.warn_percent
                self._start_snapshot(f"memory at {percent:.0f}% of the limit and growing at {rate / 1e6:.0f} MB/s", quiet=quiet)
            elif self._background_due():
                self._background_at = time.monotonic()
                self._start_snapshot("background", threading.Event())
        if percent < s.snapshot_percent:
            self.interrupted = False
        elif (
            percent >= s.critical_percent
            and s.interrupt_cells
            and not self.interrupted
            and self.interrupt is not None
            and self.neighbours.verdict() in ("here", "unknown")  # never stop a notebook whose memory is flat
        ):
            # the snapshot of this episode has been taken or at least started
            self.interrupted = self.interrupt(reading)
            if self.interrupted:
                self.interruptions.append({"time": time.time(), "percent": percent})
        if s.hard_limit:
            set_data_limit(reading.limit * s.critical_percent / 100 - reading.working_set)
        now = time.monotonic()
        busy_beat = percent >= s.warn_percent and now - self._heartbeat_at >= s.fast_interval
        if now - self._heartbeat_at >= s.heartbeat_interval or busy_beat:
            self._follow_rename()
            self._write_heartbeat()
            self._heartbeat_at = now

    def _warn_high(self, reading, first: bool) -> None:
        """The "memory is high" line, once per episode, with the advice to stop a cell once too
        (in the same line where both are due at the crossing)."""
        advice = None if self.told_headroom else self.headroom_warning(reading)
        if advice:
            self.told_headroom = True
        if first or advice:
            line = self._memory_line(reading, "Memory is high")
            self.notify("warning", f"{line} But {advice}." if advice else line)

    def _start_snapshot(self, reason: str, cancel: threading.Event | None = None, quiet: bool = False) -> None:
        """Snapshot on its own thread, so that sampling (and the critical check) goes on meanwhile."""
        self._background = cancel  # only a background snapshot can be cancelled
        self._snapshotting = threading.Thread(
            target=self.snapshot, args=(reason, cancel, quiet), name="colab-guard-snapshot", daemon=True
        )
        self._snapshotting.start()

    def _estimated_bytes(self) -> int:
        """What a snapshot would write now: the variables' sizes (recomputed when they change, and
        when memory moved since: a running cell grows a variable in place, same name, same id), and
        at least what the running cell added to this kernel, which mostly lands in variables (the
        sizes miss some of it: strings in a DataFrame's rows, objects inside a container's items)."""
        running = 0 if self.cells is None else self.cells.running_growth()
        return max(running, self._variables_bytes())

    def _variables_bytes(self) -> int:
        """The user's variables' sizes, measured again when they change or memory moved."""
        signature, now = self._signature(), time.monotonic()
        working_set = 0 if self.last is None else self.last.working_set
        last = self._estimate
        if last is None or last[0] != signature or now - last[1] > 5 or abs(working_set - last[3]) > ESTIMATE_MOVED:
            variables = user_variables(self.namespace, self.hidden)
            last = self._estimate = (signature, now, sum(nbytes_of(v) or 0 for v in list(variables.values())), working_set)
        return last[2]

    def _deadline_due(self, reading) -> bool:
        """Memory climbs fast enough that a snapshot started later would not finish in time."""
        s, rate = self.settings, self.growth.rate
        if rate <= 0 or not (self.dirty or self._signature() != self.snapshot_names):
            return False
        if seconds_left(reading.working_set, reading.limit * s.critical_percent / 100, rate) > 60:
            return False  # far away: not worth measuring the variables on every reading
        level = reading.limit * s.critical_percent / 100
        return must_start(reading.working_set, level, rate, self._estimated_bytes(), self.write_speed.speed, self._interval())

    def _background_due(self) -> bool:
        """Idle after a cell changed things: bring the snapshot up to date, throttled."""
        s, state = self.settings, self.cell_state
        if not s.background_snapshots or not self.dirty or state.get("executing"):
            return False
        idle_since = state.get("idle_since")
        if idle_since is None or time.time() - idle_since < s.background_idle:
            return False
        last = self.last_snapshot.seconds if self.last_snapshot is not None else 0.0
        return time.monotonic() - self._background_at >= max(s.background_interval, 10 * last)

    def cell_started(self) -> None:
        """A cell starts: stop a background snapshot, which must not slow it down or see it half-done.

        It stops within one 8 MiB chunk or one batch of objects; the cell waits for that (a few ms),
        so the snapshot never reads what the cell is changing.
        """
        self.told_saved = False  # a new cell's output may say "saved" once
        if self._background is not None:
            self._background.set()
            thread = self._snapshotting
            if thread is not None and thread.is_alive() and thread is not threading.current_thread():
                thread.join(CANCEL_WAIT)

    def protect_before(self, growth: int | None) -> None:
        """A cell starts that added ``growth`` to memory last time: where that would pass the
        snapshot level now, snapshot before it runs; where it would pass the critical level, say so."""
        if not growth:
            return
        try:
            reading = self.reader.read()
        except (OSError, ValueError, KeyError):
            return
        self.last, s = reading, self.settings
        if reading.working_set + growth < reading.limit * s.snapshot_percent / 100:
            return
        free = max(0, reading.limit - reading.working_set)
        changed = self.dirty or self.last_snapshot is None or self._signature() != self.snapshot_names
        self.told_saved = True  # the warning below says it, once
        result = self.snapshot("before a cell that needed more memory than is free") if changed else self.last_snapshot
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

    def cell_finished(self) -> None:
        """A cell ran: the namespace may have changed since the last snapshot."""
        self.dirty = True

    def headroom_warning(self, reading) -> str | None:
        """What to do, said before the limit, when a snapshot could not be written in time or memory.

        "Stop the cell" is said only on evidence: growth held for ``SUSTAINED_SECONDS``, in this kernel.
        """
        s = self.settings
        level = reading.limit * s.critical_percent / 100
        if level - reading.working_set < SNAPSHOT_MEMORY:
            return "there is too little memory left for a snapshot: free memory now (`del NAME`, see `%guard top`)"
        if self.neighbours.verdict() not in ("here", "unknown") or not self.sustained.held(SUSTAINED_SECONDS):
            return None
        rate = min(self.growth.rate, self.sustained.rate)
        needed = snapshot_seconds(self._estimated_bytes(), self.write_speed.speed)
        left = seconds_left(reading.working_set, level, rate)
        if rate > 0 and left < needed:
            return (
                f"memory grows faster ({rate / 1e6:.0f} MB/s) than your variables can be saved "
                f"(about {needed:.0f}s): stop the cell (interrupt the kernel) or free memory now"
            )
        return None

    @property
    def snapshot_running(self) -> bool:
        return self._snapshotting is not None and self._snapshotting.is_alive()

    def wait_snapshot(self, timeout: float | None = None) -> None:
        """Wait for a snapshot the watcher started in the background."""
        if self._snapshotting is not None:
            self._snapshotting.join(timeout)

    def _snapshot_due(self, percent: float) -> bool:
        """Once per episode, again only if memory climbed further and the variables changed."""
        if self.snapshot_at_percent is None:
            return True
        return percent >= self.snapshot_at_percent + 5 and self._signature() != self.snapshot_names

    def _signature(self) -> frozenset:
        """Which objects the user's names hold: rebinding or adding a variable changes it."""
        for _ in range(3):
            try:
                return frozenset((k, id(v)) for k, v in list(self.namespace.items()) if not k.startswith("_"))
            except RuntimeError:  # the running cell changed the namespace while we looked
                continue
        return frozenset()

    def snapshot(self, reason: str = "manual", cancel: threading.Event | None = None, quiet: bool = False):
        """Take a snapshot now; returns its result, or None with the reason in ``last_error``."""
        reading = self.last
        memory = (
            None if reading is None else {"working_set": reading.working_set, "limit": reading.limit, "percent": reading.percent}
        )
        self.snapshot_at_percent = reading.percent if reading else 0.0
        self.snapshot_names = self._signature()
        dirty, self.dirty = self.dirty, False
        # decided when it starts: the episode may end (and the flag reset) while it is written
        announce = reason not in ("manual", "background") and not self.told_saved and not quiet
        if announce:
            self.told_saved = True  # later ones this episode are in %guard list
        try:
            result = take_snapshot(
                self.namespace,
                self.snapshot_dir,
                self.settings.notebook,
                self.settings.keep_snapshots,
                self.hidden,
                memory,
                reason,
                cancel,
                live=bool(self.cell_state.get("executing")),
            )
        except SnapshotCancelled:
            self.dirty = True
            return None
        except NothingToSave as exc:  # an empty namespace: nothing to protect, no slot taken
            self.last_error = str(exc)
            return None
        except (SnapshotError, OSError) as exc:
            self.dirty = self.dirty or dirty
            self.last_error = str(exc)
            if cancel is None:
                self.notify("error", f"colab-guard could not snapshot your variables: {exc}")
            return None
        self.last_snapshot = result
        self.write_speed.update(result.bytes_written, result.seconds)
        self._write_heartbeat()  # the server waits for this when it asked for the snapshot
        if announce:
            self.notify(
                "warning",
                f"colab-guard saved {len(result.variables)} variables ({reason}) in {result.seconds:.1f}s. "
                "If the kernel dies, run `%guard restore` in the new kernel.",
            )
        return result

    def who_grows(self) -> str:
        """A sentence naming what grows memory when it is not this kernel ("" when it is, or unknown)."""
        other = self.neighbours.top_other() if self.neighbours.verdict() == "elsewhere" else None
        if other is None:
            return ""
        beat = kernels_by_pid(self.snapshot_dir, self.settings.shared_heartbeats).get(other.pid)
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

    def blame(self, working_set: int) -> str:
        """Who grew memory: this kernel's cell, or another process."""
        other = self.who_grows()
        if other:
            return other
        return self.cells.blame() if self.cells is not None else ""

    def _memory_line(self, reading, prefix: str) -> str:
        gib = 1 << 30
        blame = " ".join(part for part in (self.blame(reading.working_set), self.at_risk()) if part)
        return (
            f"{prefix}: {reading.working_set / gib:.1f} of {reading.limit / gib:.1f} GiB "
            f"({reading.percent:.0f}%, limit from {reading.limit_source}). "
            + (f"{blame} " if blame else "")
            + f"colab-guard will snapshot your variables at {self.settings.snapshot_percent:.0f}%."
        )

    def _follow_rename(self) -> None:
        """The server recorded that this notebook was renamed: file everything under the new name."""
        new = renamed_to(self.snapshot_dir, self.settings.notebook)
        if new is None or self.snapshot_running:
            return
        old, self.settings.notebook = self.settings.notebook, new
        self.heartbeat_path = heartbeat_path(self.snapshot_dir, new)
        with self._beat_lock:
            finish_rename(self.snapshot_dir, old, new)

    def _write_heartbeat(self, clean: bool = False) -> None:
        reading = self.last
        payload: Heartbeat = {
            "format": HEARTBEAT_FORMAT,
            "pid": os.getpid(),
            "time": time.time(),
            "clean_exit": clean,
            "notebook": self.settings.notebook,
            "working_set": None if reading is None else reading.working_set,
            "limit": None if reading is None else reading.limit,
            "percent": None if reading is None else reading.percent,
            "peak_percent": self.peak_percent,
            "oom_kills": None if reading is None or reading.cgroup is None else reading.cgroup.get("oom_kills"),
            "cgroup_path": None if reading is None or reading.cgroup is None else reading.cgroup.get("path"),
            "cgroup_version": None if reading is None or reading.cgroup is None else reading.cgroup.get("version"),
            "last_snapshot": None if self.last_snapshot is None else self.last_snapshot.id,
            "executing": self.cell_state.get("executing", False),
            "idle_since": self.cell_state.get("idle_since"),
        }
        # memory by cell, for the server's sessions view: its first lines are the user's alone
        cells = [] if self.cells is None else self.cells.for_heartbeat()
        shared = self.settings.shared_heartbeats  # the heartbeat readable by every user (a read-only view)
        if not shared:
            payload["cells"] = cells
        try:
            notebook_dir(self.snapshot_dir, self.settings.notebook, create=True, mode=0o755 if shared else 0o700)
            if not shared and not self._made_private:
                make_private(self.snapshot_dir, self.settings.notebook)  # shared by an earlier kernel
                self._made_private = True
            with self._beat_lock:
                write_json_atomic(self.heartbeat_path, payload, durable=False, mode=0o644 if shared else 0o600)
                if shared:
                    write_json_atomic(cells_path(self.snapshot_dir, self.settings.notebook), {"cells": cells}, durable=False)
        except (OSError, SnapshotError) as exc:
            self.last_error = f"heartbeat: {exc}"


def set_data_limit(headroom: float) -> int | None:
    """Let this process map at most ``headroom`` more bytes of data (RLIMIT_DATA, soft limit).

    RLIMIT_DATA counts private writable mappings (Linux >= 4.7), which is where numpy's and
    PyTorch's large buffers live: a larger allocation then fails with MemoryError (numpy) or
    RuntimeError (PyTorch's CPU allocator). Returns the limit set, or None where it cannot be set.
    """
    try:
        import resource

        with open("/proc/self/status") as f:
            vmdata = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmData:"))
        soft = vmdata + max(int(headroom), 0)
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
        return soft
    except (ImportError, OSError, ValueError, StopIteration):
        return None
