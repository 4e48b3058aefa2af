"""The kernels' accelerator log: one JSON line a minute while an accelerator is attached.

Where no colab-guard server keeps a usage log (Colab's hosted runtime), the kernels keep this one
in the user's folder of the snapshot dir, so on Google Drive it outlives the runtime and counts
the week's accelerator hours across runtimes. Lines follow ``usage.hours``: ``t``, ``interval``,
``host`` and ``accelerators``; a minute logged by two kernels of one runtime counts once.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .ownership import SnapshotError, open_private, private_dir, read_private
from .paths import user_folder

ACCELERATOR_LOG = "accelerators.jsonl"
MAX_LOG = 4 << 20  # past this, the oldest half is dropped (a week of minutes is about 1 MiB)


def accelerator_log_path(snapshot_dir: str) -> str:
    return os.path.join(snapshot_dir, user_folder(), ACCELERATOR_LOG)


def append_accelerator_line(snapshot_dir: str, record: dict[str, Any]) -> None:
    """Append one line (never through a link; the file is the user's alone)."""
    private_dir(snapshot_dir, user_folder(), create=True)
    path = accelerator_log_path(snapshot_dir)
    try:
        size = os.lstat(path).st_size
    except FileNotFoundError:
        size = 0
    if size > MAX_LOG:
        lines = read_accelerator_lines(snapshot_dir)
        from .files import write_small_file

        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        write_small_file(tmp, "".join(line + "\n" for line in lines[len(lines) // 2 :]).encode(), durable=False)
        os.replace(tmp, path)
    if os.path.exists(path):
        os.close(open_private(path))  # refuses a link or a file someone else could write
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.write(fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
    finally:
        os.close(fd)


def read_accelerator_lines(snapshot_dir: str) -> list[str]:
    """The log's lines; [] where there is none or it is not the user's alone."""
    try:
        data = read_private(accelerator_log_path(snapshot_dir), 2 * MAX_LOG)
    except (OSError, SnapshotError):
        return []
    return data.decode(errors="replace").splitlines()
