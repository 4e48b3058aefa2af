"""When to snapshot: by the deadline that memory growth sets, not only at a fixed level.

A snapshot must be complete before memory reaches the critical level. The watcher knows how fast
memory grows (its readings), roughly how much a snapshot would write (the variables' sizes) and
how fast the snapshot folder takes data (the last snapshots); it starts a snapshot once the time
left, less a margin, is no more than the snapshot would take.
"""

from __future__ import annotations

import collections
import math

# The most a snapshot adds to the container's memory charge: the writer's two 8 MiB bounce buffers,
# one part of a large container with its pickle memo, and slack.
SNAPSHOT_MEMORY = 48 << 20
# Write speed assumed before any snapshot was measured: a local disk is faster, Google Drive slower.
DEFAULT_WRITE_SPEED = 100e6
MARGIN = 1.5  # the snapshot is planned to take this many times its estimate
SETUP_SECONDS = 0.2  # listing and grouping the variables, the manifest, the fsyncs


class GrowthRate:
    """Bytes per second by which the working set grew over the last ``window`` seconds."""

    def __init__(self, window: float = 1.0):
        self.window = window
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, now: float, working_set: int) -> None:
        """Record one reading."""
        self.samples.append((now, working_set))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window:
            self.samples.popleft()

    def held(self, seconds: float) -> bool:
        """Whether the readings span ``seconds`` and memory rose through each third of them (a burst
        that stopped, or memory freed on the way, is not sustained growth)."""
        if len(self.samples) < 4 or self.samples[-1][0] - self.samples[0][0] < seconds * 0.9:
            return False
        values = [w for _, w in self.samples]
        marks = [values[0], values[len(values) // 3], values[2 * len(values) // 3], values[-1]]
        return all(b > a for a, b in zip(marks, marks[1:]))

    @property
    def rate(self) -> float:
        """Growth in bytes/s over the window (negative when memory is freed; 0 until measured)."""
        if len(self.samples) < 2:
            return 0.0
        (t0, w0), (t1, w1) = self.samples[0], self.samples[-1]
        return (w1 - w0) / (t1 - t0) if t1 - t0 >= 0.05 else 0.0


class WriteSpeed:
    """The snapshot folder's measured speed, in bytes/s of variables saved (pickling included)."""

    def __init__(self, initial: float = DEFAULT_WRITE_SPEED):
        self.speed = initial
        self.measured = False

    def update(self, nbytes: int, seconds: float) -> None:
        """Learn from one snapshot; small ones say little about throughput."""
        if nbytes < 8 << 20 or seconds <= 0:
            return
        observed = nbytes / seconds
        self.speed = observed if not self.measured else 0.5 * self.speed + 0.5 * observed
        self.measured = True


def snapshot_seconds(nbytes: int, write_speed: float) -> float:
    """How long a snapshot of ``nbytes`` is expected to take."""
    return SETUP_SECONDS + nbytes / max(write_speed, 1.0)


def seconds_left(working_set: int, level: float, rate: float) -> float:
    """Seconds until the working set plus a snapshot's own memory reaches ``level`` at ``rate``."""
    room = level - working_set - SNAPSHOT_MEMORY
    if room <= 0:
        return 0.0
    return room / rate if rate > 0 else math.inf


def must_start(working_set: int, level: float, rate: float, nbytes: int, write_speed: float, interval: float) -> bool:
    """Whether a snapshot started at the next reading would no longer finish before ``level``."""
    return seconds_left(working_set, level, rate) <= snapshot_seconds(nbytes, write_speed) * MARGIN + interval
