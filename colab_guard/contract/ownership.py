"""Ownership checks: colab-guard uses only folders and files that the current user alone can write.

A snapshot is a pickle, and loading a pickle someone else could write is running their code. So
below the configured snapshot dir every folder must be a real directory (never a symbolic link),
owned by the current user (the effective uid) and not writable by group or others; every file is
opened with ``O_NOFOLLOW`` and checked the same way on its open descriptor, before a byte of it is
read. Folders are made with ``mkdir`` (which never follows a link) and checked with ``lstat``.

The snapshot dir itself may be shared by every user of a machine (mode 1777, owned by root, like
``/tmp``): the sticky bit keeps others from renaming or removing a user's folder in it. Without
it, or owned by another user, it is refused.

On Colab the kernel runs as root and Google Drive's files appear owned by root, so the owner check
passes. Where root uses Colab's Drive mount, whose modes say nothing about who can write (there
are no other users), only the group/other-writable check is skipped; never for another user.
"""

from __future__ import annotations

import errno
import os
import stat

from .paths import notebook_key, user_folder

WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH
# Colab mounts Google Drive here (FUSE); see the module's docstring.
COLAB_DRIVE_MOUNT = "/content/drive"


class SnapshotError(Exception):
    """A snapshot that cannot be taken or restored, with the reason for the user."""


class UnsafePathError(SnapshotError):
    """A folder or file colab-guard refuses to use, because someone else could have written it."""

    def __init__(self, path: str, problem: str, remedy: str) -> None:
        super().__init__(f"refusing to use {path}: {problem}. {remedy}")
        self.path = path
        self.problem = problem


def _who(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _modes_mean_something(path: str) -> bool:
    """False only for root on Colab's Google Drive mount (see the module's docstring)."""
    if os.geteuid() != 0 or not os.path.ismount(COLAB_DRIVE_MOUNT):
        return True
    return os.path.commonpath([os.path.abspath(path), COLAB_DRIVE_MOUNT]) != COLAB_DRIVE_MOUNT


def check_owned(st: os.stat_result, path: str, owner: int | None = None) -> None:
    """Raise UnsafePathError unless ``st`` is owned by ``owner`` (the euid) and not writable by group or others."""
    owner = os.geteuid() if owner is None else owner
    if st.st_uid != owner:
        raise UnsafePathError(
            path,
            f"it belongs to {_who(st.st_uid)}, not to {_who(owner)}, so its owner could have planted what it holds",
            "Ask an admin to remove it; colab-guard then makes its own.",
        )
    if st.st_mode & WRITABLE_BY_OTHERS and _modes_mean_something(path):
        raise UnsafePathError(
            path,
            f"it is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}), so another user could change it",
            f"If all of it is yours, run `chmod go-w {path}`; otherwise delete it.",
        )


def check_private_dir(path: str, owner: int | None = None) -> os.stat_result:
    """``lstat`` a folder: a real directory (not a link), owned by ``owner`` (the euid), not writable by others.

    A missing folder raises FileNotFoundError.
    """
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(
            path,
            "it is a symbolic link, which could redirect your snapshots",
            "Delete the link; colab-guard makes a real folder.",
        )
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(path, "it is not a directory", "Move it away; colab-guard makes a folder there.")
    check_owned(st, path, owner)
    return st


def check_snapshot_dir(path: str) -> None:
    """The configured snapshot dir: it may be shared, but then only with the sticky bit, and owned by root or you."""
    st = os.stat(path)  # the admin's own path: a link there is the admin's choice
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError(path, "the snapshot dir is not a directory", "Point ColabGuard.snapshot_dir to a folder.")
    if st.st_uid not in (os.geteuid(), 0):
        raise UnsafePathError(
            path,
            f"the snapshot dir belongs to {_who(st.st_uid)}, who could replace your folder in it",
            "Use a snapshot dir owned by root (mode 1777 if shared) or by you.",
        )
    if st.st_mode & WRITABLE_BY_OTHERS and not st.st_mode & stat.S_ISVTX and _modes_mean_something(path):
        raise UnsafePathError(
            path,
            f"the snapshot dir is writable by others without the sticky bit (mode {stat.S_IMODE(st.st_mode):04o}), "
            "so any user could replace your folder in it",
            f"An admin should run `chmod 1777 {path}` to share it, or `chmod go-w {path}`.",
        )


def make_private_dir(path: str, mode: int = 0o700, exist_ok: bool = True) -> str:
    """Make a folder (``mkdir``: never through a link) or find it, and check it is the current user's alone.

    ``mode`` may add read and search permission for group and others (a shared heartbeat view);
    they are added to an existing folder too, write permission never.
    """
    try:
        os.mkdir(path, mode & 0o755)
    except FileExistsError:
        if not exist_ok:
            raise
    st = check_private_dir(path)
    missing = mode & 0o055 & ~st.st_mode
    if missing:
        os.chmod(path, stat.S_IMODE(st.st_mode) | missing)  # checked just now: a real folder of ours
    return path


def private_dir(snapshot_dir: str, *parts: str, create: bool = False, mode: int = 0o700) -> str:
    """``snapshot_dir/parts...``, every folder below the snapshot dir checked (and made, with ``create``).

    Without ``create`` a missing folder raises FileNotFoundError; an unsafe one UnsafePathError.
    """
    if create:
        os.makedirs(snapshot_dir, mode=0o700, exist_ok=True)
    check_snapshot_dir(snapshot_dir)
    path = snapshot_dir
    for part in parts:
        path = os.path.join(path, part)
        if create:
            make_private_dir(path, mode)
        else:
            check_private_dir(path)
    return path


def notebook_dir(snapshot_dir: str, notebook: str | None, create: bool = False, mode: int = 0o700) -> str:
    """The current user's folder of one notebook, checked (and made, with ``create``): see ``private_dir``."""
    return private_dir(snapshot_dir, user_folder(), notebook_key(notebook), create=create, mode=mode)


def open_private(path: str, owner: int | None = None) -> int:
    """A descriptor to read ``path``: never through a link; a regular file of ``owner`` (the euid) not writable by others."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(path, "it is a symbolic link", "Delete the link.") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(path, "it is not a regular file", "Delete it.")
        check_owned(st, path, owner)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private(path: str, limit: int = -1, owner: int | None = None) -> bytes:
    """The content of a file that passes ``open_private`` (at most ``limit`` bytes)."""
    with os.fdopen(open_private(path, owner), "rb") as f:
        return f.read(limit)


def probe_snapshot_dir(snapshot_dir: str) -> None:
    """Make the user's folder in ``snapshot_dir`` and write, fsync and delete a file there;
    ValueError with the reason where snapshots could not be kept."""
    path = os.path.abspath(os.path.expanduser(snapshot_dir))
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ValueError(f"snapshot_dir {snapshot_dir!r} cannot hold snapshots: it is a file, not a folder")
    try:
        folder = private_dir(path, user_folder(), create=True)
        path = os.path.join(folder, f".probe-{os.getpid()}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, b"colab-guard probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(path)
    except (OSError, SnapshotError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"snapshot_dir {snapshot_dir!r} cannot hold snapshots: {reason}") from None
