"""Benchmark: does a complete snapshot survive the OOM kill, whatever the growth rate and namespace size?

Real ipykernels with the watcher, in real cgroup v1 memory cgroups (1.5 GiB and 8 GiB), hold 0.4 or
4 GiB of arrays; then a cell grows memory at 100 MB/s, 250 MB/s or 1 GB/s with cell-stopping off,
until the OOM killer strikes. Two ways the growth starts: at once after the cell that made the
arrays (as "Run all" does: only a snapshot by the deadline can win) and after the kernel sat idle
(the background snapshot should already be there). Reported: the fraction of runs whose newest
complete snapshot holds every variable that existed before the runaway cell.

    python benchmarks/snapshot_race.py [--runs 1] [--dir DIR] [--disk-mbps 0]

``--disk-mbps`` throttles the kernel's writes with a real blkio cgroup (Google Drive takes tens of
MB/s). Target (issue 12): all of them. Needs root and cgroup v1 (memory, blkio).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from kernel_harness import BENCH, Kernel, memory_limited, write_throttled
from runaway import grow_cell

from colab_guard.contract.manifests import notebook_snapshots

SETUP = """
import numpy as np
held = np.arange({n} // 8, dtype=np.float64)
labels = [f"row-{{i}}" for i in range(10_000)]
"""
CASES = [(1.5, 0.4), (8.0, 0.4), (8.0, 4.0)]  # (container GiB, namespace GiB)
RATES = [100, 250, 1000]  # MB/s


def one_run(limit_gib: float, namespace_gib: float, rate_mb: int, idle: float, directory: str, disk_mbps: int) -> bool:
    """One kernel, grown until killed; whether a complete snapshot with every variable survived."""
    snapshot_dir = tempfile.mkdtemp(dir=directory)
    memory = memory_limited(int(limit_gib * (1 << 30)), BENCH)
    blkio = write_throttled(snapshot_dir, disk_mbps * 1_000_000, BENCH) if disk_mbps else None
    kernel = Kernel(snapshot_dir, "race.ipynb", interrupt_cells=False)
    try:
        memory.add(kernel.pid)
        if blkio:
            blkio.add(kernel.pid)
        time.sleep(1.5)  # the watcher reads its new cgroup
        kernel.output(SETUP.format(n=int(namespace_gib * (1 << 30))))
        time.sleep(idle)
        kernel.start(grow_cell(rate_mb * 1e6))
        if not kernel.wait_dead(300):
            print("  the kernel did not die", file=sys.stderr)
            return False
        snaps = notebook_snapshots(snapshot_dir, "race.ipynb")
        return bool(snaps) and {"held", "labels"} <= set(snaps[0]["variables"])
    finally:
        kernel.stop()
        memory.remove()
        if blkio:
            blkio.remove()
        shutil.rmtree(snapshot_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--disk-mbps", type=int, default=0, help="throttle snapshot writes to this speed (0: the disk's own)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds the kernel sits idle in the 'after idle' runs")
    args = parser.parse_args()
    print(f"{'container':>9} {'namespace':>9} {'growth':>9} {'start':>10} {'survived':>9}")
    total = survived_all = 0
    for (limit, size), rate, (mode, idle) in itertools.product(CASES, RATES, [("at once", 0.0), ("after idle", args.idle)]):
        survived = sum(one_run(limit, size, rate, idle, args.dir, args.disk_mbps) for _ in range(args.runs))
        total += args.runs
        survived_all += survived
        print(f"{limit:7.1f}Gi {size:7.1f}Gi {rate:5d}MB/s {mode:>10} {survived:>5}/{args.runs}", flush=True)
    print(f"overall: {survived_all}/{total} runs kept a complete snapshot")


if __name__ == "__main__":
    main()
