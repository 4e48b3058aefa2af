"""Small files written durably and atomically: manifests and heartbeats."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any


def write_small_file(path: str, data: bytes, durable: bool = True, mode: int = 0o600) -> None:
    """Write a new small file (never through a link: ``O_EXCL``) and, if ``durable``, fsync it.

    ``mode`` is applied whatever the umask (a shared heartbeat must be readable by others).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        if mode != 0o600:
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: str, payload: Mapping[str, Any], durable: bool = True, mode: int = 0o600) -> None:
    """Replace ``path`` with JSON atomically (new temporary file, rename); ``durable`` also fsyncs.

    Never writes through a link: the temporary file is new (``O_EXCL``) and a rename replaces a
    link at ``path`` rather than following it. A heartbeat rewritten every few seconds need not be
    durable: the page cache outlives a killed process, only a machine crash loses it.
    """
    tmp = f"{path}.tmp-{os.getpid()}"
    data = json.dumps(payload).encode()
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    write_small_file(tmp, data, durable, mode)
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


def parse_json(data: bytes | str) -> Any:
    """JSON written by someone else: ValueError for malformed or too deeply nested text, never RecursionError."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
