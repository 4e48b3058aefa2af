"""Benchmark: "Run All" into the OOM killer, growing variables that existed before the runaway cell.

A real ipykernel with the watcher, in a real 1.5 GiB cgroup v1 memory cgroup, cell-stopping off,
runs a setup cell (a dict, a list and a DataFrame) and, with no pause (as "Run All" does, so no
background snapshot), a cell that grows one of them in place by 20 MB (arrays, or a row holding a 20 MB string) at 250 MB/s or 1 GB/s
(paced by the clock, so the rate is what is asked for) until the OOM killer strikes. Reported: the
fraction of runs where every variable comes back from the newest complete snapshot, restored in
this process.

    python benchmarks/run_all.py [--runs 2] [--dir DIR]

Target (issue 20): all of them. Needs root and cgroup v1 (memory).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_harness import kernel_in_cgroup

from colab_guard.snapshot import restore_snapshot

NOTEBOOK = "run-all.ipynb"
LIMIT = 3 << 29  # 1.5 GiB
SETUP = """
import numpy as np, pandas as pd, time
table = {f"row-{i}": i for i in range(200_000)}
rows = [str(i) for i in range(100_000)]
frame = pd.DataFrame({"a": np.arange(100_000), "b": [str(i) for i in range(100_000)]})
"""
# each adds one 20 MB array to a variable that existed before the cell
GROWS = {
    "dict": 'table[f"grow-{n}"] = np.ones(chunk // 8)',
    "list": "rows.append(np.ones(chunk // 8))",
    "DataFrame": 'frame.loc[len(frame)] = [n, "x" * chunk]',  # a row appended in place
}
GROW_CELL = """
chunk, n, start = 20 << 20, 0, time.monotonic()
while True:
    {grow}
    n += 1
    time.sleep(max(0.0, start + n * chunk / {rate} - time.monotonic()))
"""
CHECK = {
    "table": lambda v: v["row-199999"] == 199999,
    "rows": lambda v: v[99_999] == "99999",
    "frame": lambda v: len(v) >= 100_000 and v["b"].iloc[99_999] == "99999",
}


def one_run(kind: str, rate_mb: int, directory: str) -> bool:
    """One kernel, grown until killed; whether every variable of the setup was restored."""
    with kernel_in_cgroup(LIMIT, directory, NOTEBOOK, interrupt_cells=False) as (kernel, snapshot_dir):
        kernel.start(SETUP)
        kernel.start(GROW_CELL.format(grow=GROWS[kind], rate=rate_mb * 1e6))
        if not kernel.wait_dead(120):
            print("  the kernel did not die", file=sys.stderr)
            return False
        restored: dict = {}
        try:
            restore_snapshot(restored, snapshot_dir, NOTEBOOK)
        except Exception as exc:  # noqa: BLE001 - no snapshot, or one that cannot be read: a failed run
            print(f"  {kind} {rate_mb} MB/s: {exc}", file=sys.stderr)
            return False
        missing = [name for name, ok in CHECK.items() if name not in restored or not ok(restored[name])]
        if missing:
            print(f"  {kind} {rate_mb} MB/s: lost {missing}", file=sys.stderr)
        return not missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--kinds", nargs="+", default=list(GROWS), choices=list(GROWS))
    args = parser.parse_args()
    print(f"{'grows':>9} {'rate':>9} {'restored':>9}")
    total = good = 0
    for kind, rate in itertools.product(args.kinds, [250, 1000]):
        ok = sum(one_run(kind, rate, args.dir) for _ in range(args.runs))
        total, good = total + args.runs, good + ok
        print(f"{kind:>9} {rate:5d}MB/s {ok:>5}/{args.runs}", flush=True)
    print(f"overall: {good}/{total} runs restored every earlier variable")


if __name__ == "__main__":
    main()
