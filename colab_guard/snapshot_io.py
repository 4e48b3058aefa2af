"""Durable, low-memory file writing for snapshots.

A snapshot is taken when memory is already short, so writing it must not add to the container's
memory charge. Buffered writes are charged to the cgroup as dirty page cache (a 1 GiB write raises
the charge by about 1 GiB), so data goes through a small aligned bounce buffer with ``O_DIRECT``
(no page cache at all); where the filesystem refuses ``O_DIRECT`` (tmpfs, some FUSE mounts such as
Google Drive) each chunk is written, ``fdatasync``-ed and dropped from the cache with
``posix_fadvise(DONTNEED)``, which bounds the charge to about one chunk.
"""

from __future__ import annotations

import errno
import json
import mmap
import os

import xxhash

ALIGN = 4096  # O_DIRECT needs offsets, lengths and memory aligned to the logical block size
CHUNK = 8 << 20  # the bounce buffer: the most extra memory a write costs


def checksum() -> "xxhash.xxh3_128":
    """A fresh running checksum (xxh3-128: tens of GB/s, so checking unchanged data is cheap)."""
    return xxhash.xxh3_128()


class DirectWriter:
    """Append-only writer of large data through an aligned bounce buffer, off the page cache.

    ``write`` accepts any buffer; ``align`` pads to the next 4 KiB boundary so each stored buffer
    starts aligned; ``close`` fsyncs and truncates the padding of the last block.
    """

    def __init__(self, path: str, direct: bool = True):
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        self.direct = False
        if direct and hasattr(os, "O_DIRECT"):
            try:
                self.fd = os.open(path, flags | os.O_DIRECT, 0o600)
                self.direct = True
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # EINVAL: this filesystem has no O_DIRECT
                    raise
        if not self.direct:
            self.fd = os.open(path, flags, 0o600)
        self.path = path
        self._buf = mmap.mmap(-1, CHUNK)  # anonymous mmap: page-aligned, as O_DIRECT requires
        self._view = memoryview(self._buf)
        self._fill = 0  # bytes waiting in the bounce buffer
        self._flushed = 0  # bytes already on disk
        self._synced_from = 0

    @property
    def offset(self) -> int:
        """Logical end of the data written so far."""
        return self._flushed + self._fill

    def write(self, data) -> None:
        src = memoryview(data).cast("B")
        pos = 0
        while pos < len(src):
            n = min(CHUNK - self._fill, len(src) - pos)
            self._view[self._fill : self._fill + n] = src[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == CHUNK:
                self._flush_full()

    def align(self) -> None:
        pad = -self.offset % ALIGN
        if pad:
            self.write(b"\0" * pad)

    def _flush_full(self) -> None:
        self._write_all(self._view[: self._fill])
        self._flushed += self._fill
        self._fill = 0
        if not self.direct:
            self._drop_cache()

    def _write_all(self, view) -> None:
        done = 0
        while done < len(view):
            done += os.write(self.fd, view[done:])

    def _drop_cache(self) -> None:
        """Make the written pages clean, then drop them, so the cgroup is not charged for them."""
        os.fdatasync(self.fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, self._synced_from, self._flushed - self._synced_from, os.POSIX_FADV_DONTNEED)
        self._synced_from = self._flushed

    def close(self) -> int:
        """Flush, fsync and close; returns the file's size."""
        size = self.offset
        try:
            if self._fill:
                tail = self._fill
                if self.direct:
                    self._fill += -self._fill % ALIGN  # O_DIRECT writes whole blocks; truncated below
                    self._view[tail : self._fill] = b"\0" * (self._fill - tail)
                self._write_all(self._view[: self._fill])
                self._flushed += self._fill
                self._fill = 0
            if self._flushed != size:
                os.ftruncate(self.fd, size)
            os.fsync(self.fd)
            if not self.direct and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(self.fd)
            self._release()
        return size

    def abort(self) -> None:
        """Close without keeping anything (the caller removes the temporary directory)."""
        try:
            os.close(self.fd)
        finally:
            self._release()

    def _release(self) -> None:
        try:
            self._view.release()
            self._buf.close()
        except BufferError:
            pass  # a slice is still held by an exception's traceback; it is freed with it


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


def write_json_atomic(path: str, payload: dict, durable: bool = True) -> None:
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
