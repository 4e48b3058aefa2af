"""Benchmark: the memory a restore costs against the namespace it restores, with aliasing across variables.

A notebook holds ``--records`` records (parsed JSON) and an index of every tenth of them by user:
the index shares its records with the list. One child process builds the namespace in its own
cgroup v1 memory cgroup and snapshots it; it reports the namespace's charge (usage after building
minus usage before). A fresh child in a fresh cgroup then restores the snapshot and reports its
peak charge (``memory.max_usage_in_bytes`` minus the usage before). The ratio of the two is the
figure (issue 20: at most 1.05, plus 64 MiB); the child also checks the records are shared again.

    python benchmarks/restore_memory.py [--records 1800000] [--dir DIR]

Needs root and cgroup v1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_harness import child_in_cgroup

MiB = 1 << 20

CHILD = textwrap.dedent(
    r"""
    import gc, json, os, sys
    cg, role, folder, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    from colab_guard.snapshot import restore_snapshot, take_snapshot
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))

    def usage():
        with open(os.path.join(cg, "memory.usage_in_bytes")) as f:
            return int(f.read())

    gc.collect()
    before = usage()
    with open(os.path.join(cg, "memory.max_usage_in_bytes"), "w") as f:
        f.write("0")
    if role == "snapshot":
        records = [{"user": f"user-{i:08d}", "n": i, "score": i * 0.5, "tags": ["a", "b"]} for i in range(n)]
        index = {r["user"]: r for r in records[::10]}
        namespace = usage() - before
        take_snapshot({"records": records, "index": index}, folder, "bench.ipynb")
        print(json.dumps({"namespace": namespace}))
    else:
        ns = {}
        restore_snapshot(ns, folder, "bench.ipynb")
        with open(os.path.join(cg, "memory.max_usage_in_bytes")) as f:
            peak = int(f.read()) - before
        shared = ns["index"]["user-00000010"] is ns["records"][10]
        print(json.dumps({"peak": peak, "after": usage() - before, "shared": shared}))
    """
)


def child(role: str, folder: str, records: int) -> dict:
    return child_in_cgroup(CHILD, role, folder, str(records), limit=16 << 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_800_000)
    parser.add_argument("--dir", default=None, help="where the snapshot is written (a temporary folder)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(dir=args.dir)
    try:
        built = child("snapshot", folder, args.records)
        restored = child("restore", folder, args.records)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ratio = restored["peak"] / built["namespace"]
    print(f"records: {args.records:,}  namespace {built['namespace'] / MiB:.0f} MiB")
    print(
        f"restore: peak {restored['peak'] / MiB:.0f} MiB, after {restored['after'] / MiB:.0f} MiB, shared: {restored['shared']}"
    )
    print(
        f"ratio peak/namespace: {ratio:.3f}  (target: at most 1.05 plus 64 MiB: {(built['namespace'] * 1.05 + 64 * MiB) / MiB:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
