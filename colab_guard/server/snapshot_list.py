"""The server's list of snapshots: summaries of every manifest, read from disk at most every 2 s."""

from __future__ import annotations

import logging
import threading
import time

from ..contract.manifests import list_snapshots, snapshot_summary
from ..contract.ownership import UnsafePathError

SNAPSHOT_LIST_SECONDS = 2.0  # many tabs polling the snapshot list read the disk once per this


class SnapshotList:
    """Every snapshot's summary, cached briefly so that many tabs polling read the disk once."""

    def __init__(self, snapshot_dir: str, log: logging.Logger | None = None):
        self.snapshot_dir = snapshot_dir
        self.log = log or logging.getLogger(__name__)
        self._cached: tuple[float, list[dict]] | None = None
        self._filling = threading.Lock()  # one reader of the disk when many requests miss at once

    def get(self) -> list[dict]:
        """Every snapshot's summary, newest first; concurrent misses wait for one reading."""
        cached = self._fresh()
        if cached is not None:
            return cached
        with self._filling:
            cached = self._fresh()  # filled while this request waited
            if cached is None:
                manifests = list_snapshots(self.snapshot_dir, on_unsafe=self._unsafe)
                cached = [snapshot_summary(m) for m in manifests]
                self._cached = (time.monotonic(), cached)
            return cached

    def _fresh(self) -> list[dict] | None:
        cached = self._cached
        return cached[1] if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_LIST_SECONDS else None

    def _unsafe(self, exc: UnsafePathError) -> None:
        """A folder or manifest that is not this user's alone is left out of the list, and logged."""
        self.log.warning("colab-guard: %s", exc)

    def forget(self) -> None:
        """After a delete: the next listing reads the disk again."""
        self._cached = None
