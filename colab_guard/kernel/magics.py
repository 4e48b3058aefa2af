"""``%guard`` and ``%%guard``: the user's commands, each subcommand a method named in one table."""

from __future__ import annotations

import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from ..contract.manifests import SnapshotError
from ..readers.memory import human_bytes
from .display import StatusView

USAGE = """%guard status                      memory headroom, accelerator and the latest snapshot
%guard snapshot                    save your variables now
%guard list [--all]                the snapshots of this notebook (--all: of every notebook)
%guard restore [SNAPSHOT] [NAMES]  load a snapshot's variables (all, or NAMES) [--mmap: lazy, for large arrays]
%guard top                         the largest variables, to know what to del
%%guard off                        (first line of a cell) run the cell without colab-guard stopping it"""


@magics_class
class GuardMagics(Magics):
    """``%guard``: colab-guard's commands, backed by this kernel's Guard."""

    def __init__(self, shell, guard):
        super().__init__(shell)
        self.guard = guard
        self.commands = {
            "status": self.status,
            "snapshot": self.snapshot,
            "top": self.top,
            "list": self.listing,
            "restore": self.restore,
        }

    @line_magic
    def guard(self, line: str):
        """colab-guard: %guard status | snapshot | list | restore [SNAPSHOT] [NAMES...] [--mmap] | top"""
        args = shlex.split(line)
        if not args:
            raise UsageError(USAGE)
        command = self.commands.get(args[0])
        if command is None:
            raise UsageError(f"unknown colab-guard command {args[0]!r}\n{USAGE}")
        try:
            return command(args[1:])
        except SnapshotError as exc:
            raise UsageError(f"colab-guard: {exc}") from None

    def status(self, args: list[str]):
        """Memory, accelerators and the latest snapshot, rendered inline."""
        return StatusView(self.guard.status())

    def snapshot(self, args: list[str]) -> None:
        """Save the variables now and say what was written."""
        result = self.guard.snapshot()
        skipped = "".join(f"\n  skipped {n}: {why}" for n, why in sorted(result.skipped.items()))
        imports = len(result.manifest.get("modules", {}))
        print(
            f"Saved {len(result.variables)} variables and {imports} imports to snapshot {result.id} "
            f"({human_bytes(result.bytes_written)} written, {human_bytes(result.bytes_reused)} unchanged, "
            f"{result.seconds:.2f}s){skipped}"
        )

    def top(self, args: list[str]) -> None:
        """The largest variables, to know what to del."""
        for name, size in self.guard.largest()[:20]:
            print(f"{human_bytes(size):>10}  {name}")

    def listing(self, args: list[str]) -> None:
        """This notebook's snapshots, newest first; with ``--all``, every notebook's."""
        if args and args != ["--all"]:
            raise UsageError(f"%guard list takes one option, --all, not {' '.join(args)}")
        every = args == ["--all"]
        snaps = self.guard.snapshots(every)
        if not snaps:
            print("No snapshot yet." if every else "No snapshot of this notebook yet.")
        for s in snaps:
            where = f"  {s.get('notebook') or 'no notebook'}" if every else ""
            print(f"{s['id']}  {s['created']}  {len(s['variables'])} variables  ({s['reason']}){where}")

    def restore(self, args: list[str]) -> None:
        """Load a snapshot (the newest by default), all its variables or the names given."""
        use_mmap = "--mmap" in args
        args = [a for a in args if a != "--mmap"]
        snapshot = args[0] if args and args[0][:8].isdigit() else None
        names = args[1:] if snapshot else args
        result = self.guard.restore(snapshot, names or None, use_mmap)
        restored = result.modules + result.restored
        print(f"Restored {len(restored)} variables from snapshot {result.snapshot}: {', '.join(restored)}")
        for name, why in sorted(result.failed.items()):
            print(f"  not restored {name}: {why}")
        for note in result.notes:
            print(f"  note: {note}")

    @cell_magic("guard")
    def guard_cell(self, line: str, cell: str):
        """%%guard off: run this cell without colab-guard stopping it near the memory limit."""
        if line.strip() != "off":
            raise UsageError("%%guard takes one option: %%guard off")
        self.guard.suppressed = True
        try:
            assert self.shell is not None
            self.shell.ex(cell)
        finally:
            self.guard.suppressed = False
