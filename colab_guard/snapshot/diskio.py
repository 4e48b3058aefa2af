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
import mmap
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import xxhash

ALIGN = 4096  # O_DIRECT needs offsets, lengths and memory aligned to the logical block size
CHUNK = 8 << 20  # the bounce buffer: the most extra memory a write costs


def checksum() -> xxhash.xxh3_128:
    """A fresh running checksum (xxh3-128: tens of GB/s, so checking unchanged data is cheap)."""
    return xxhash.xxh3_128()


class DirectWriter:
    """Append-only writer of large data through aligned bounce buffers, off the page cache.

    ``write`` accepts any buffer; ``align`` pads to the next 4 KiB boundary so each stored buffer
    starts aligned; ``close`` fsyncs and truncates the padding of the last block. Two bounce
    buffers alternate: one is filled while a background thread writes the other (``os.write``
    releases the GIL), so copying overlaps the disk and the extra memory stays at 2 x CHUNK.
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
        # anonymous mmaps: page-aligned, as O_DIRECT requires
        self._bufs = [mmap.mmap(-1, CHUNK), mmap.mmap(-1, CHUNK)]
        self._views = [memoryview(b) for b in self._bufs]
        self._active = 0  # the buffer being filled
        self._pending: list[Future[Any] | None] = [None, None]  # each buffer's write in flight
        self._pool: ThreadPoolExecutor | None = None
        self._fill = 0  # bytes waiting in the active buffer
        self._flushed = 0  # bytes handed to the disk
        self._synced_from = 0

    @property
    def offset(self) -> int:
        """Logical end of the data written so far."""
        return self._flushed + self._fill

    def write(self, data: bytes | bytearray | memoryview) -> None:
        src = memoryview(data).cast("B")
        pos = 0
        while pos < len(src):
            n = min(CHUNK - self._fill, len(src) - pos)
            self._views[self._active][self._fill : self._fill + n] = src[pos : pos + n]
            self._fill += n
            pos += n
            if self._fill == CHUNK:
                self._hand_over()

    def align(self) -> None:
        pad = -self.offset % ALIGN
        if pad:
            self.write(b"\0" * pad)

    def _hand_over(self) -> None:
        """Queue the full active buffer for writing and switch to the other one."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colab-guard-writer")
        full, length = self._active, self._fill
        self._pending[full] = self._pool.submit(self._write_chunk, self._views[full][:length])
        self._flushed += length
        self._fill = 0
        self._active = 1 - full
        self._wait(self._active)  # its previous write must be done before it is refilled

    def _wait(self, index: int) -> None:
        future, self._pending[index] = self._pending[index], None
        if future is not None:
            future.result()  # re-raises the writer's error (ENOSPC...) here

    def _write_chunk(self, view: memoryview) -> None:
        """Runs on the writer thread; writes are in order since the pool has one thread."""
        done = 0
        while done < len(view):
            done += os.write(self.fd, view[done:])
        if not self.direct:
            self._drop_cache(os.lseek(self.fd, 0, os.SEEK_CUR))

    def _drop_cache(self, end: int) -> None:
        """Make the written pages clean, then drop them, so the cgroup is not charged for them."""
        os.fdatasync(self.fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, self._synced_from, end - self._synced_from, os.POSIX_FADV_DONTNEED)
        self._synced_from = end

    def close(self) -> int:
        """Flush, fsync and close; returns the file's size."""
        size = self.offset
        try:
            if self._fill:
                tail = self._fill
                if self.direct:
                    self._fill += -self._fill % ALIGN  # O_DIRECT writes whole blocks; truncated below
                    self._views[self._active][tail : self._fill] = b"\0" * (self._fill - tail)
                self._hand_over()
            self._wait(0)
            self._wait(1)
            if os.fstat(self.fd).st_size != size:
                os.ftruncate(self.fd, size)
            os.fsync(self.fd)
            if not self.direct and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            self._shutdown()
        return size

    def abort(self) -> None:
        """Close without keeping anything (the caller removes the temporary directory)."""
        for index in (0, 1):
            try:
                self._wait(index)
            except OSError:
                pass  # the error that made us abort, seen again
        self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        os.close(self.fd)
        try:
            for view, buf in zip(self._views, self._bufs):
                view.release()
                buf.close()
        except BufferError:
            pass  # a slice is still held by an exception's traceback; it is freed with it
