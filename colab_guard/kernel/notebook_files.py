"""Where this notebook's files live: the one owner of the snapshot folder and the notebook's name
that the watcher, the heartbeat and the commands all use."""

from __future__ import annotations

import threading

from ..contract.heartbeat import cells_path, heartbeat_path
from ..contract.manifests import SnapshotError
from ..contract.renames import finish_rename, move_snapshots, renamed_to
from ..contract.settings import WatcherSettings


class NotebookFiles:
    """The snapshot folder and the notebook this kernel files under; changed only through its methods.

    The notebook is the settings' ``notebook`` (what ``%guard status`` shows), kept there."""

    def __init__(self, snapshot_dir: str, settings: WatcherSettings):
        self.snapshot_dir, self._settings = snapshot_dir, settings
        self.lock = threading.Lock()  # held while a file of this notebook is written or moved

    @property
    def notebook(self) -> str | None:
        return self._settings.notebook

    @notebook.setter
    def notebook(self, notebook: str | None) -> None:
        self._settings.notebook = notebook

    @property
    def heartbeat_path(self) -> str:
        return heartbeat_path(self.snapshot_dir, self.notebook)

    @property
    def cells_path(self) -> str:
        return cells_path(self.snapshot_dir, self.notebook)

    def move_to(self, snapshot_dir: str) -> None:
        """Use another snapshot folder from now on (``%guard config snapshot_dir=...``)."""
        with self.lock:
            self.snapshot_dir = snapshot_dir

    def adopt(self, notebook: str) -> None:
        """This kernel learnt which notebook it runs: its snapshots so far are that notebook's."""
        with self.lock:
            try:
                move_snapshots(self.snapshot_dir, self.notebook, notebook)
            except (OSError, SnapshotError):
                pass
            self.notebook = notebook

    def follow_rename(self) -> bool:
        """The server recorded that this notebook was renamed: file everything under the new name."""
        new = renamed_to(self.snapshot_dir, self.notebook)
        if new is None:
            return False
        with self.lock:
            old, self.notebook = self.notebook, new
            finish_rename(self.snapshot_dir, old, new)
        return True
