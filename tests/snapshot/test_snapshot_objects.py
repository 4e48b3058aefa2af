"""Object-heavy namespaces and notebook code: bounded memory in a real cgroup, exact round trips."""

import json
import subprocess
import sys
import textwrap

import pytest

MiB = 1 << 20

# The shapes real notebooks hold: parsed JSON records, a DataFrame with string columns, tokenized
# text, nested dicts. Built in a child process that has joined a real memory cgroup.
BUILD = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    n = int(sys.argv[3])
    shared = {"shared": True}
    records = [{"id": i, "name": f"user-{i}", "score": i * 0.5, "tags": ["a", "b"]} for i in range(n)]
    records[10] = records[11] = shared  # one object twice in one container
    frame = pd.DataFrame({
        "city": [f"city-{i % 5000}" for i in range(n)],  # pandas' string dtype (Arrow-backed where pyarrow is)
        "label": pd.Series([f"label-{i}" for i in range(n)], dtype=object),  # a plain object column
        "v": np.arange(n, dtype=np.float64),
    })
    tokens = [list(range(i % 50)) for i in range(n // 2)]
    nested = {f"k{i}": {"inner": [i, str(i)], "more": {"x": i}} for i in range(n // 4)}
    namespace = {"records": records, "frame": frame, "tokens": tokens, "nested": nested}
    """
)

CHARGE = (
    textwrap.dedent(
        """
        import json, os, sys, time
        cg, out = sys.argv[1], sys.argv[2]
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        def usage():
            return int(open(os.path.join(cg, "memory.usage_in_bytes")).read())
        empty = usage()
        """
    )
    + BUILD
    + textwrap.dedent(
        """
    from colab_guard.snapshot import take_snapshot
    held = usage() - empty
    before = usage()
    open(os.path.join(cg, "memory.max_usage_in_bytes"), "w").write("0")
    started = time.perf_counter()
    result = take_snapshot(namespace, out, "objects.ipynb")
    seconds = time.perf_counter() - started
    peak = int(open(os.path.join(cg, "memory.max_usage_in_bytes")).read())
    print(json.dumps({"extra": peak - before, "held": held, "seconds": seconds, "skipped": result.skipped}))
    """
    )
)

RESTORE = (
    "import json, sys\n"
    + BUILD
    + textwrap.dedent(
        """
    from colab_guard.snapshot import restore_snapshot
    out = {}
    report = restore_snapshot(out, sys.argv[2], "objects.ipynb")
    assert not report.failed, report.failed
    exact = {name: (out[name].equals(value) if name == "frame" else out[name] == value) for name, value in namespace.items()}
    print(json.dumps({"exact": exact, "alias": out["records"][10] is out["records"][11], "dtypes": str(out["frame"].dtypes.to_dict())}))
    """
    )
)


@pytest.mark.cgroup
def test_object_heavy_snapshot_stays_within_its_memory_budget_and_restores_exactly(memory_cgroup, tmp_path):
    # Given about half a GiB of small Python objects in a real memory cgroup
    group = memory_cgroup(4 << 30)
    out = subprocess.run(
        [sys.executable, "-c", CHARGE, group.path, str(tmp_path), "600000"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    # When it is snapshotted, then its extra charge stays within 64 MiB + 5 % of what the data holds
    assert report["skipped"] == {}
    assert report["held"] > 300 * MiB, report
    print(f"extra charge {report['extra'] / MiB:.0f} MiB for {report['held'] / MiB:.0f} MiB held, {report['seconds']:.1f} s")
    assert report["extra"] < 64 * MiB + 0.05 * report["held"], (
        f"{report['extra'] / MiB:.0f} MiB extra for {report['held'] / MiB:.0f} MiB"
    )
    # And a fresh interpreter restores every variable exactly, the repeated object still one object
    out = subprocess.run(
        [sys.executable, "-c", RESTORE, "-", str(tmp_path), "600000"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    restored = json.loads(out.stdout.strip().splitlines()[-1])
    assert restored["exact"] == {"records": True, "frame": True, "tokens": True, "nested": True}
    assert restored["alias"] is True
    assert "'label': dtype('O')" in restored["dtypes"] and "'city': <StringDtype" in restored["dtypes"]


def test_large_containers_inside_small_ones_go_in_parts_and_stay_shared(tmp_path):
    from colab_guard.snapshot import restore_snapshot, take_snapshot

    # Given a dict of splits (the usual shape of a dataset), a second name for it, and a tuple sharing one split
    train = [{"i": i, "text": f"sample {i}"} for i in range(60_000)]
    data = {"train": train, "test": [str(i) for i in range(30_000)], "seed": 3}
    namespace = {"data": data, "same": data, "pair": (train, "x")}
    # When it is snapshotted, then each large list was written in parts, outside the pickle stream
    result = take_snapshot(namespace, str(tmp_path), "splits.ipynb")
    parts = [e for g in result.manifest["groups"].values() for e in g["entries"] if e["kind"] == "pickle-part"]
    assert sum(e["items"] for e in parts) == 90_000
    # And it restores equal, with what the names shared still shared
    out = {}
    restore_snapshot(out, str(tmp_path), "splits.ipynb")
    assert out["data"] == data and out["pair"] == (train, "x")
    assert out["same"] is out["data"] and out["pair"][0] is out["data"]["train"]
