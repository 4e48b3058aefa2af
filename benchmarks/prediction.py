"""Benchmark: predict, then protect. A cell that added X to memory last time runs again with less than
X free: is a complete snapshot there before memory passes 85 %?

A real ipykernel with the watcher, in a real cgroup v1 memory cgroup (1.5 GiB or 3 GiB), runs a
cell that adds X (60 % of the limit) and lets it go; then the notebook takes another 35 % of the
limit and the same cell runs again, this time until the OOM killer strikes (cell-stopping off).
Reported: the fraction of runs whose snapshot "before a cell that needed more memory than is free"
holds every variable and was taken below 85 %.

    python benchmarks/prediction.py [--runs 2]

Target (issue 20): all of them. Needs root and cgroup v1 (memory).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_harness import kernel_in_cgroup

from colab_guard.contract.manifests import notebook_snapshots

NOTEBOOK = "predict.ipynb"
REASON = "before a cell that needed more memory than is free"
SETUP = "import numpy as np\nlimit = {limit}\nnames = [f'row-{{i}}' for i in range(10_000)]\n"
# the same source both times: it adds 60 % of the limit; the second time it keeps growing
CELL = "chunks = [np.ones((20 << 20) // 8) for _ in range(int(limit * 0.6) // (20 << 20))]\nwhile grow_on: chunks.append(np.ones((20 << 20) // 8))\ndel chunks"


def one_run(limit: int, directory: str) -> bool:
    with kernel_in_cgroup(limit, directory, NOTEBOOK, interrupt_cells=False, background_snapshots=False) as (
        kernel,
        snapshot_dir,
    ):
        kernel.output(SETUP.format(limit=limit) + "grow_on = False")
        kernel.output(CELL)  # last time: it added 60 % of the limit
        kernel.output(f"held = np.ones(int({limit} * 0.35) // 8)\ngrow_on = True")
        kernel.start(CELL)
        if not kernel.wait_dead(120):
            print("  the kernel did not die", file=sys.stderr)
            return False
        snaps = notebook_snapshots(snapshot_dir, NOTEBOOK)
        before = [s for s in snaps if s["reason"] == REASON]
        ok = bool(before) and before[0]["memory"]["percent"] < 85 and {"held", "names", "limit"} <= set(before[0]["variables"])
        if not ok:
            print(f"  {limit >> 20} MiB: {[(s['reason'], s['memory']) for s in snaps]}", file=sys.stderr)
        return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    total = good = 0
    for limit in (3 << 29, 3 << 30):
        ok = sum(one_run(limit, args.dir) for _ in range(args.runs))
        total, good = total + args.runs, good + ok
        print(f"{limit / (1 << 30):.1f} GiB: {ok}/{args.runs} protected before the cell ran", flush=True)
    print(f"overall: {good}/{total} runs had a complete snapshot below 85 % before the cell")


if __name__ == "__main__":
    main()
