"""Snapshots kept current while the kernel is idle, and out of the way as soon as a cell runs."""

import asyncio
import json
import os
import threading

import numpy as np
import pytest
from kernel_helpers import start_notebook_kernel

from colab_guard.snapshot import list_snapshots, snapshot_root, take_snapshot
from colab_guard.snapshot.pickling import SnapshotCancelled


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ColabGuard"]["background_snapshots"] = True  # what these tests are about
    return jp_server_config


async def test_an_idle_kernel_snapshots_what_its_last_cell_changed(jp_fetch, jp_serverapp):
    # Given a kernel with background snapshots on (the default)
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "idle.ipynb")
    try:
        # When a cell creates variables and the kernel then sits idle
        assert (await kernel.run("import numpy as np\nweights = np.arange(1_000_000.0)\nnotes = ['a', 'b']"))["error"] is None
        snaps = []
        for _ in range(40):
            await asyncio.sleep(0.25)
            snaps = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]
            if snaps:
                break
        # Then a snapshot appears without any command, silently, holding them
        (snap,) = snaps
        assert snap["reason"] == "background" and set(snap["variables"]) == {"weights", "notes"}
        # And with nothing changed since, none is taken again
        await asyncio.sleep(3)
        assert len(json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]) == 1
    finally:
        kernel.stop()


def test_a_cancelled_snapshot_leaves_nothing_and_keeps_the_previous(tmp_path):
    # Given a first snapshot, then a large namespace being written in the background
    take_snapshot({"first": 1}, str(tmp_path), "nb.ipynb")
    cancel = threading.Event()
    namespace = {"big": np.ones(64 << 20), "rows": [{"i": i} for i in range(200_000)]}
    timer = threading.Timer(0.05, cancel.set)  # a cell starts while it is being written
    timer.start()
    # When it is cancelled, then it stops with SnapshotCancelled
    with pytest.raises(SnapshotCancelled):
        take_snapshot(namespace, str(tmp_path), "nb.ipynb", cancel=cancel)
    timer.cancel()
    # And no partial folder is left; the previous snapshot is still the latest
    assert not [name for name in os.listdir(snapshot_root(str(tmp_path), "nb.ipynb")) if name.startswith(".tmp")]
    (only,) = list_snapshots(str(tmp_path), "nb.ipynb")
    assert set(only["variables"]) == {"first"}
