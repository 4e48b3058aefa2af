"""Where colab-guard keeps its files: the snapshot dir and one folder per notebook beneath it."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping

# Colab mounts Google Drive here; snapshots on Drive outlive the runtime.
COLAB_DRIVE = "/content/drive/MyDrive"
NO_NOTEBOOK = "no-notebook"


def default_snapshot_dir(env: Mapping[str, str] | None = None, drive: str = COLAB_DRIVE) -> str:
    """``COLAB_GUARD_SNAPSHOT_DIR``, else a folder on a mounted Google Drive, else the Jupyter data dir."""
    env = os.environ if env is None else env
    if env.get("COLAB_GUARD_SNAPSHOT_DIR"):
        return os.path.abspath(os.path.expanduser(env["COLAB_GUARD_SNAPSHOT_DIR"]))
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


def snapshot_root(snapshot_dir: str, notebook: str | None) -> str:
    """The folder of one notebook's snapshots and heartbeat."""
    return os.path.join(snapshot_dir, notebook_key(notebook))
