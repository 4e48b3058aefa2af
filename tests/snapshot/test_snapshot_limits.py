"""Snapshots against real limits: a full tmpfs, and the memory cgroup's charge while writing."""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pytest

from colab_guard.snapshot import SnapshotError, list_snapshots, restore_snapshot, snapshot_root, take_snapshot
from colab_guard.snapshot import writer as snapshot_module

MiB = 1 << 20


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 48 MiB tmpfs (no O_DIRECT there: the fallback writer is used)."""
    mount = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}); needs root")
    yield str(mount)
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_is_refused_up_front_and_the_previous_snapshot_kept(small_tmpfs):
    take_snapshot({"a": np.arange(1000), "note": "first"}, small_tmpfs, "nb.ipynb")
    with pytest.raises(SnapshotError, match="not enough disk space.*the previous snapshot is kept"):
        take_snapshot({"a": np.arange(1000), "big": np.ones(8 * MiB)}, small_tmpfs, "nb.ipynb")  # 64 MiB
    out = {}
    restore_snapshot(out, small_tmpfs, "nb.ipynb")
    assert out["note"] == "first" and len(list_snapshots(small_tmpfs, "nb.ipynb")) == 1


def test_disk_filling_up_during_the_write(small_tmpfs, monkeypatch):
    take_snapshot({"note": "first"}, small_tmpfs, "nb.ipynb")
    # The disk reports plenty of room at the check (someone else fills it while we write):
    # the boundary to the OS is patched, the write then hits the real ENOSPC of the tmpfs.
    real_usage = snapshot_module.shutil.disk_usage
    monkeypatch.setattr(snapshot_module.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=1 << 40))
    with pytest.raises(SnapshotError, match="No space left on device.*the previous snapshot is kept"):
        take_snapshot({"note": "second", "big": np.ones(8 * MiB)}, small_tmpfs, "nb.ipynb")
    root = snapshot_root(small_tmpfs, "nb.ipynb")
    assert not [n for n in os.listdir(root) if n.startswith(".tmp")]  # the partial write is gone
    out = {}
    restore_snapshot(out, small_tmpfs, "nb.ipynb")
    assert out == {"note": "first"}


# In its own cgroup: allocate an array, then snapshot it (or pickle it plainly) and report how much
# the cgroup's charge, page cache included, rose at its peak.
CHARGE = textwrap.dedent(
    """
    import json, os, pickle, sys
    import numpy as np
    cg, method, out = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    from colab_guard.snapshot import take_snapshot
    arr = np.random.default_rng(0).random(48 << 20)  # 384 MiB
    def usage():
        return int(open(os.path.join(cg, "memory.usage_in_bytes")).read())
    before = usage()
    open(os.path.join(cg, "memory.max_usage_in_bytes"), "w").write("0")
    if method == "colab-guard":
        take_snapshot({"arr": arr}, out, "charge.ipynb")
    else:
        with open(os.path.join(out, "plain.pkl"), "wb") as f:
            pickle.dump({"arr": arr}, f, protocol=4)
    peak = int(open(os.path.join(cg, "memory.max_usage_in_bytes")).read())
    print(json.dumps({"extra": peak - before}))
    """
)


@pytest.mark.cgroup
@pytest.mark.parametrize("method, bound", [("colab-guard", 64 * MiB), ("pickle-4", None)])
def test_cgroup_charge_while_writing(memory_cgroup, tmp_path, method, bound):
    group = memory_cgroup(4 << 30)
    result = subprocess.run(
        [sys.executable, "-c", CHARGE, group.path, method, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    extra = json.loads(result.stdout)["extra"]
    if bound is not None:
        assert extra < bound, f"the snapshot raised the cgroup's charge by {extra / MiB:.0f} MiB"
    else:
        # the baseline shows what is avoided: a plain pickle is charged (copy + page cache) for its size
        assert extra > 300 * MiB
