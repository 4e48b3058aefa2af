"""IPython's pre_run_cell and post_run_cell hooks: what colab-guard does as each cell starts and ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .cell_stopping import CellStopper
from .cells import CellLog
from .watcher import Watcher


def _ipython_major() -> int:
    try:
        import IPython

        return int(IPython.__version__.split(".")[0])
    except (ImportError, ValueError):
        return 0


IPYTHON_MAJOR = _ipython_major()


class CellHooks:
    """Tells the watcher, memory by cell and the cell stopper when a cell starts and ends."""

    def __init__(
        self,
        shell: Any,
        watcher: Watcher,
        cells: CellLog,
        stopper: CellStopper,
        before: Callable[[], None],
        after: Callable[[object], None],
    ) -> None:
        self.shell, self.watcher, self.cells, self.stopper = shell, watcher, cells, stopper
        self.before, self.after = before, after  # the Guard's own: learn the notebook; explain an error
        self._count_at_start: int | None = None  # the shell's execution_count when the cell started
        self._count_offset = 1 if IPYTHON_MAJOR >= 9 else 0  # until a finished cell shows it

    def pre_run(self, info: object = None, *args: object) -> None:
        # ipykernel may run cells off the main thread: interrupt the one that runs this cell
        self.stopper.executing = threading.get_ident()
        self.watcher.cell_state = {"executing": True, "idle_since": None}
        self.watcher.cell_started()
        self.before()
        self._count_at_start = getattr(self.shell, "execution_count", None)
        source = getattr(info, "raw_cell", None)
        self.watcher.protect_before(self.cells.predicted_growth(source))  # memory by cell predicts this one
        self.cells.start(self.prompt_number(), source)

    def prompt_number(self) -> int | None:
        """The number the running cell's prompt shows (``[7]``): IPython 9 counts the cell before
        pre_run_cell, IPython 8 after it; the offset is learnt from each finished cell."""
        count = self._count_at_start
        return None if count is None else count - self._count_offset

    def post_run(self, result: object = None, *args: object) -> None:
        shown = getattr(result, "execution_count", None)  # what the execute reply tells the front end
        if isinstance(shown, int) and isinstance(self._count_at_start, int):
            self._count_offset = self._count_at_start - shown
        self.cells.finish(shown if isinstance(shown, int) else None)
        self.stopper.executing = None
        self.watcher.cell_state = {"executing": False, "idle_since": time.time()}
        self.watcher.cell_finished()
        self.after(getattr(result, "error_in_exec", None))
