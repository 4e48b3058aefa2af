"""Kill the snapshotting process at random points: the previous snapshot must always restore."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from colab_guard.snapshot import list_snapshots, restore_snapshot

# Takes snapshot after snapshot; each holds a 32 MiB array filled with its own counter value, so a
# snapshot mixing two states is caught. Prints the counter once each snapshot is complete.
WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from colab_guard.snapshot import take_snapshot
    arr = np.zeros(4 << 20)
    for k in range(1, 10_000):
        arr[:] = k
        take_snapshot({"arr": arr, "k": k, "meta": {"k": k}}, sys.argv[1], "crash.ipynb", keep=2)
        print(k, flush=True)
    """
)


@pytest.mark.parametrize("round_", range(20))
def test_sigkill_mid_snapshot_leaves_a_good_snapshot(tmp_path_factory, round_):
    # Given a process snapshotting in a loop, each snapshot different from the last
    snapdir = str(tmp_path_factory.mktemp("crash"))
    rng = random.Random(round_)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, snapdir], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "1"  # the first snapshot is complete
        # When it is killed at a random point of a later snapshot
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    completed = [int(line) for line in proc.stdout.read().split()] or [1]
    proc.stdout.close()
    # Then the newest complete snapshot restores, whole and consistent
    out = {}
    report = restore_snapshot(out, snapdir, "crash.ipynb")
    assert report.failed == {}
    k = out["k"]
    assert k >= max(completed) and out["meta"] == {"k": k}
    assert out["arr"].shape == (4 << 20,) and np.all(out["arr"] == k)
    # and a half-written one is never listed as a snapshot
    assert all(s["id"] and not os.path.basename(s["_path"]).startswith(".") for s in list_snapshots(snapdir, "crash.ipynb"))
