"""Where colab-guard keeps its files, shared by the server and the kernel side."""

from __future__ import annotations

import os
from collections.abc import Mapping

from jupyter_core.paths import jupyter_data_dir

# Colab mounts Google Drive here; snapshots on Drive outlive the runtime.
COLAB_DRIVE = "/content/drive/MyDrive"


def default_snapshot_dir(env: Mapping[str, str] | None = None, drive: str = COLAB_DRIVE) -> str:
    """``COLAB_GUARD_SNAPSHOT_DIR``, else a folder on a mounted Google Drive, else the Jupyter data dir."""
    env = os.environ if env is None else env
    if env.get("COLAB_GUARD_SNAPSHOT_DIR"):
        return os.path.abspath(os.path.expanduser(env["COLAB_GUARD_SNAPSHOT_DIR"]))
    if os.path.isdir(drive):
        return os.path.join(drive, "colab-guard", "snapshots")
    return os.path.join(jupyter_data_dir(), "colab_guard", "snapshots")
