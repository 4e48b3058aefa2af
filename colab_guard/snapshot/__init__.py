"""The snapshot engine (kernel side only): choosing, writing and restoring a notebook's variables.

The files it writes follow ``colab_guard.contract``; the server reads them without this package.
"""

from ..contract.manifests import SnapshotError, latest_manifest, list_snapshots
from ..contract.paths import snapshot_root
from .restore import RestoreResult, restore_snapshot
from .writer import SnapshotResult, take_snapshot

__all__ = [
    "RestoreResult",
    "SnapshotError",
    "SnapshotResult",
    "latest_manifest",
    "list_snapshots",
    "restore_snapshot",
    "snapshot_root",
    "take_snapshot",
]
