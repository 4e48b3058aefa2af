"""``%guard`` and ``%%guard``: the user's commands, each subcommand a method named in one table."""

from __future__ import annotations

import os
import shlex

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..contract.manifests import SnapshotError
from ..contract.settings import CONFIGURABLE, SETTINGS, parse_value, remember, settings_file
from ..contract.units import human_bytes
from .display import CELLS_HEADER, StatusView, cell_line
from .guard import Guard
from .monitor import DEFAULT_INTERVAL, Monitor

NOTEBOOK_SETTINGS = [s.name for s in SETTINGS if s.notebook]  # by today's names
NAME_WIDTH = max(map(len, NOTEBOOK_SETTINGS))  # %guard config's column of names

USAGE = """%guard status                      everything about this runtime: accelerator, memory, disks, countdowns, cost
%guard monitor [SECONDS | off]     a status line in this cell's output, updated every few seconds
%guard cells                       memory by cell: what each of the last cells added, and its peak
%guard config [NAME=VALUE ...]     show the watcher's settings, or set them (remembered for your next kernels)
%guard snapshot                    save your variables now
%guard list [--all]                the snapshots of this notebook (--all: of every notebook)
%guard restore [SNAPSHOT] [NAMES]  load a snapshot's variables (all, or NAMES) [--mmap: lazy, for large arrays]
%guard top                         the largest variables, to know what to del
%%guard off                        (first line of a cell) run the cell without colab-guard stopping it"""


@magics_class
class GuardMagics(Magics):
    """``%guard``: colab-guard's commands, backed by this kernel's Guard."""

    def __init__(self, shell: InteractiveShell, guard: Guard) -> None:
        super().__init__(shell)  # type: ignore[no-untyped-call]  # IPython leaves it untyped
        self.kernel_guard = guard
        self.commands = {
            "status": self.status,
            "snapshot": self.snapshot,
            "top": self.top,
            "list": self.listing,
            "restore": self.restore,
            "cells": self.cell_memory,
            "monitor": self.monitor_command,
            "config": self.settings_command,
        }

    @line_cell_magic
    def guard(self, line: str, cell: str | None = None) -> StatusView | None:
        """colab-guard: %guard status | monitor | cells | config | snapshot | list | restore [SNAPSHOT] [NAMES...] [--mmap] | top;
        %%guard off runs a cell without colab-guard stopping it."""
        if cell is not None:
            self.run_unguarded(line, cell)
            return None
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

    def status(self, args: list[str]) -> StatusView:
        """Memory, accelerators and the latest snapshot, rendered inline."""
        return StatusView(self.kernel_guard.status())

    def cell_memory(self, args: list[str]) -> None:
        """Memory by cell: what each of the last cells added to memory, and its peak."""
        if args:
            raise UsageError("%guard cells takes no arguments")
        done = [c.to_dict() for c in self.kernel_guard.cells.recent() if not c.running]
        if not done:
            print("No cell has run since colab-guard was loaded.")
            return
        print("Memory by cell: the container's working set (what the out-of-memory killer counts) and the kernel's own")
        print(CELLS_HEADER)
        for cell in done:
            print(cell_line(cell))
        blame = self.kernel_guard.cells.blame()
        if blame:
            print(blame)

    def monitor_command(self, args: list[str]) -> None:
        """A status line in this cell's output, updated in place, until ``%guard monitor off``."""
        current = self.kernel_guard.monitor
        if args == ["off"]:
            if current is None or not current.running:
                print("The monitor is not running.")
            else:
                current.stop()
                print("Monitor stopped.")
            self.kernel_guard.monitor = None
            return
        try:
            interval = float(args[0]) if args else DEFAULT_INTERVAL
        except ValueError:
            raise UsageError(f"%guard monitor takes a number of seconds or off, not {args[0]!r}") from None
        if len(args) > 1 or interval <= 0:
            raise UsageError("%guard monitor [SECONDS | off]")
        if current is not None:
            current.stop()  # one line at a time: the new one, in this cell
        self.kernel_guard.monitor = Monitor(self.kernel_guard, interval)
        self.kernel_guard.monitor.start()

    def settings_command(self, args: list[str]) -> None:
        """Show the watcher's settings, or set them for this kernel and remember them."""
        settings = self.kernel_guard.settings
        path = settings_file()
        if not args:
            print(f"colab-guard settings of this kernel (set with %guard config NAME=VALUE; remembered in {path}):")
            for each in SETTINGS:
                if each.notebook:
                    shown = _shown(each.name, getattr(settings, each.name))
                    print(f"  {each.name:<{NAME_WIDTH}} {shown:<24} {settings.source(each.name)}")
                    print(f"  {'':<{NAME_WIDTH}} {each.notebook}")
            return
        if args[0] == "--forget":
            names = args[1:]
            unknown = [n for n in names if n not in CONFIGURABLE]
            if not names or unknown:
                raise UsageError(f"%guard config --forget NAME...: one or more of {', '.join(NOTEBOOK_SETTINGS)}")
            names = [CONFIGURABLE[n].name for n in names]
            remember(path, {}, forget=tuple(names))
            print(f"Forgotten: {', '.join(names)} (this kernel keeps its values; new kernels use the defaults).")
            return
        values, texts = {}, {}
        for arg in args:
            name, sep, text = arg.partition("=")
            name = name.strip()
            if not sep:
                raise UsageError(f"%guard config NAME=VALUE, not {arg!r}")
            if name not in CONFIGURABLE:
                raise UsageError(f"colab-guard has no setting {name!r}; these can be set: {', '.join(NOTEBOOK_SETTINGS)}")
            name = CONFIGURABLE[name].name  # an older name of it
            try:
                values[name] = parse_value(name, text)
            except ValueError as exc:
                raise UsageError(f"colab-guard: {exc}") from None
            texts[name] = _stored(name, values[name])
        try:
            self.kernel_guard.configure(values)
        except ValueError as exc:
            raise UsageError(f"colab-guard: {exc}; nothing was changed") from None
        try:
            remember(path, texts)
            where = f"remembered for your next kernels in {path}"
        except (OSError, SnapshotError) as exc:
            where = f"not remembered ({exc})"
        for name in values:
            print(f"{name} = {_shown(name, getattr(settings, name))} for this kernel now; {where}.")
            variable = CONFIGURABLE[name].env
            if variable in os.environ:
                print(f"  Note: {variable} is set in this kernel's environment (by its server or you); it wins in new kernels.")

    def snapshot(self, args: list[str]) -> None:
        """Save the variables now and say what was written."""
        result = self.kernel_guard.snapshot()
        skipped = "".join(f"\n  skipped {n}: {why}" for n, why in sorted(result.skipped.items()))
        imports = len(result.manifest.get("modules", {}))
        if result.unchanged:
            print(
                f"Nothing changed since snapshot {result.id} ({len(result.variables)} variables): it stays the newest.{skipped}"
            )
            return
        print(
            f"Saved {len(result.variables)} variables and {imports} imports to snapshot {result.id} "
            f"({human_bytes(result.bytes_written)} written, {human_bytes(result.bytes_reused)} unchanged, "
            f"{result.seconds:.2f}s){skipped}"
        )

    def top(self, args: list[str]) -> None:
        """The largest variables, to know what to del."""
        for name, size in self.kernel_guard.largest()[:20]:
            print(f"{human_bytes(size):>10}  {name}")

    def listing(self, args: list[str]) -> None:
        """This notebook's snapshots, newest first; with ``--all``, every notebook's."""
        if args and args != ["--all"]:
            raise UsageError(f"%guard list takes one option, --all, not {' '.join(args)}")
        every = args == ["--all"]
        snaps = self.kernel_guard.snapshots(every)
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
        result = self.kernel_guard.restore(snapshot, names or None, use_mmap)
        restored = result.modules + result.restored
        print(f"Restored {len(restored)} variables from snapshot {result.snapshot}: {', '.join(restored)}")
        for name, why in sorted(result.failed.items()):
            print(f"  not restored {name}: {why}")
        for note in result.notes:
            print(f"  note: {note}")

    def run_unguarded(self, line: str, cell: str) -> None:
        """%%guard off: run this cell without colab-guard stopping it near the memory limit."""
        if line.strip() != "off":
            raise UsageError("%%guard takes one option: %%guard off")
        self.kernel_guard.suppressed = True
        try:
            assert self.shell is not None
            self.shell.ex(cell)
        finally:
            self.kernel_guard.suppressed = False


def _shown(name: str, value: object) -> str:
    """A setting's value as the user reads it."""
    if value is None and name == "max_lifetime":
        return "none set (Colab: 12 h)"
    return CONFIGURABLE[name].kind.shown(value)


def _stored(name: str, value: object) -> str:
    """A setting's value as remembered: text that ``parse_value`` reads back to the same value."""
    return CONFIGURABLE[name].kind.to_text(value)
