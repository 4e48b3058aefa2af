"""Small files written durably and atomically: manifests and heartbeats."""

from __future__ import annotations

import json
import os
from typing import Any


def write_small_file(path: str, data: bytes) -> None:
    """Write a small file and fsync it (it lives inside a not-yet-renamed temporary directory)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: str, payload: dict[str, Any], durable: bool = True) -> None:
    """Replace ``path`` with JSON atomically (temporary file, rename); ``durable`` also fsyncs.

    A heartbeat rewritten every few seconds need not be durable: the page cache outlives a killed
    process, only a machine crash loses it.
    """
    tmp = f"{path}.tmp-{os.getpid()}"
    data = json.dumps(payload).encode()
    if durable:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        write_small_file(tmp, data)
    else:
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    if durable:
        fsync_dir(os.path.dirname(path))


def fsync_dir(path: str) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
