"""Where colab-guard keeps its files: the snapshot dir, one folder per user, one per notebook beneath it.

    <snapshot dir>/u<uid>-<user>/<notebook key>/

The snapshot dir may be shared by every user of a machine (an admin's ``/srv/snapshots``, mode
1777); each user's folder beneath it is private to that user (see ``ownership``). The same layout
serves a single-user default dir: it costs nothing, and server and kernel always agree on it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping

from .channels import DRIVE_VARIABLE, setting_variable

# Colab mounts Google Drive here; snapshots on Drive outlive the runtime.
COLAB_DRIVE = "/content/drive/MyDrive"
NO_NOTEBOOK = "no-notebook"


def drive_dir(env: Mapping[str, str] | None = None) -> str:
    """Where Google Drive's "My Drive" is mounted: Colab's place, or ``COLAB_GUARD_DRIVE`` (a Drive
    mounted elsewhere, a test's Drive-like folder)."""
    env = os.environ if env is None else env
    return env.get(DRIVE_VARIABLE) or COLAB_DRIVE


def on_drive(path: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether ``path`` lies on Google Drive (so it outlives a Colab runtime)."""
    drive = os.path.dirname(drive_dir(env).rstrip(os.sep)) or drive_dir(env)  # the mount, above My Drive
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(drive)]) == os.path.abspath(drive)
    except ValueError:
        return False


def default_snapshot_dir(env: Mapping[str, str] | None = None, drive: str | None = None) -> str:
    """``COLAB_GUARD_SNAPSHOT_DIR`` (the setting's variable), else a folder on a mounted Google Drive, else the Jupyter data dir."""
    env = os.environ if env is None else env
    drive = drive or drive_dir(env)
    variable = setting_variable("snapshot_dir")
    if env.get(variable):
        return os.path.abspath(os.path.expanduser(env[variable]))
    if os.path.isdir(drive):
        return os.path.join(drive, "colab-guard", "snapshots")
    from jupyter_core.paths import jupyter_data_dir  # both processes run with jupyter_core

    return os.path.join(jupyter_data_dir(), "colab_guard", "snapshots")


def notebook_key(notebook: str | None) -> str:
    """A directory name for a notebook path: readable, and unique through a short hash."""
    if not notebook:
        return NO_NOTEBOOK
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", notebook.replace(os.sep, "__")).strip("-.")[-80:]
    return f"{readable}-{hashlib.sha1(notebook.encode()).hexdigest()[:8]}"


def kernel_notebook(kernel_id: str) -> str:
    """The identity of a kernel that cannot tell which notebook it runs: its own, never shared, so
    that no other notebook's kernel ever restores its variables by default (nor it theirs)."""
    return f"{NO_NOTEBOOK}/kernel-{kernel_id}"


def is_kernel_notebook(notebook: str | None) -> bool:
    """Whether ``notebook`` is a per-kernel identity (``kernel_notebook``) rather than a notebook's."""
    return bool(notebook) and str(notebook).startswith(f"{NO_NOTEBOOK}/kernel-")


def _readable(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")


def user_folder(env: Mapping[str, str] | None = None, uid: int | None = None) -> str:
    """This user's folder name: ``u<uid>-<name>``, the name being ``JUPYTERHUB_USER`` or the login name.

    The uid makes it unique among the system's users; the name tells an admin whose it is, and keeps
    hub users apart where a spawner runs them all under one uid (then only separate snapshot dirs,
    not permissions, can keep them apart). A name changed by sanitising gets a short hash of the
    original, so two hub names never share a folder.
    """
    env = os.environ if env is None else env
    uid = os.geteuid() if uid is None else uid
    name = env.get("JUPYTERHUB_USER") or _login_name(uid)
    if not name:  # a uid with no passwd entry (some containers)
        return f"u{uid}"
    readable = _readable(name)[:64]
    if readable != name:
        readable = f"{readable}-{hashlib.sha1(name.encode()).hexdigest()[:8]}".lstrip("-")
    return f"u{uid}-{readable}"


@functools.lru_cache(maxsize=8)
def _login_name(uid: int) -> str:
    """The passwd name of a uid, looked up once (a hub's NSS may ask a directory server)."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return ""


def user_root(snapshot_dir: str, env: Mapping[str, str] | None = None) -> str:
    """The current user's folder in the snapshot dir: every notebook's folder lives beneath it."""
    return os.path.join(snapshot_dir, user_folder(env))


def snapshot_root(snapshot_dir: str, notebook: str | None) -> str:
    """The folder of one notebook's snapshots and heartbeat."""
    return os.path.join(user_root(snapshot_dir), notebook_key(notebook))
