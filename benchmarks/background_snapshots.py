"""Benchmark: what background snapshots cost the user's cells.

Two real ipykernels with the watcher, one with background snapshots on and one off, each hold a
1 GiB array; a cell changes all of it (``held += 1``), then the kernel sits idle, again and again,
interleaved between the two kernels. Reported: the median wall time of the cell in each, and the
ratio. Two idle lengths: long enough for the background snapshot to finish while idle, and just
long enough for it to start, so the next cell starts while it is being written (it is cancelled).

    python benchmarks/background_snapshots.py [--gib 1] [--cycles 8] [--dir DIR]

Target (issue 12): at most 5 % extra wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_harness import Kernel

CELL = "held += 1; held *= 1.0; held -= 1"  # three passes over the namespace: a few hundred ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    n = int(args.gib * (1 << 30)) // 8
    dirs = {mode: tempfile.mkdtemp(dir=args.dir) for mode in ("on", "off")}
    # every idle period may start one: no 30 s throttle here, the worst case for the cells
    kernels = {
        "on": Kernel(dirs["on"], "bg.ipynb", background_snapshots=True, background_interval=0.0),
        "off": Kernel(dirs["off"], "bg.ipynb", background_snapshots=False),
    }
    try:
        for kernel in kernels.values():
            kernel.output(f"import time, numpy as np\nheld = np.zeros({n})")
        print(f"{'idle s':>7} {'off ms':>8} {'on ms':>8} {'on/off':>7}")
        for idle in (6.0, 2.6):
            times: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(args.cycles):
                for mode, kernel in kernels.items():
                    started = time.perf_counter()  # from the client: execute request to idle
                    kernel.output(CELL)
                    times[mode].append(time.perf_counter() - started)
                time.sleep(idle)
            off, on = statistics.median(times["off"]) * 1000, statistics.median(times["on"]) * 1000
            print(f"{idle:7.1f} {off:8.1f} {on:8.1f} {on / off:7.3f}", flush=True)
    finally:
        for kernel in kernels.values():
            kernel.stop()
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
