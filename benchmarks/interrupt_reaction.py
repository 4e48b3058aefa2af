"""Benchmark: stopping runaway cells before the OOM killer, at growth rates from 50 MB/s to 1 GB/s.

A real kernel with the watcher runs in a real cgroup v1 memory cgroup (768 MiB). For each rate, a
cell fills memory quickly to 70 % of the limit, then grows by 20 MiB chunks at that rate, RUNS times.
Reported per rate: how many runs were stopped with the kernel alive (the rest were OOM-killed),
and the reaction time from the watcher seeing the critical level to the exception reaching the cell
(p50, p99): it includes the time the cell spends inside one C call (here its time.sleep between
chunks), since Python delivers the exception only between bytecodes. Then the watcher's idle CPU.

    python benchmarks/interrupt_reaction.py [--runs 20]

Targets (issue 8): at least 19 of 20 runs stopped at each rate; idle CPU under 0.5 % of a core.
Needs root and the cgroup v1 memory controller.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from kernel_harness import BENCH, Cgroup, Kernel, memory_limited
from resources_latency import percentile
from runaway import GROW, grow_call
from snapshot_throughput import watcher_idle_cpu

LIMIT = 768 << 20
RATES = [50e6, 200e6, 500e6, 1e9]
SETUP = (
    """
import numpy as np, json
import colab_guard.kernel as _k
before = np.arange(1_000_000)
"""
    + GROW
)
REPORT = (
    "g = _k.get_guard(); print(json.dumps({'detected': [i['time'] for i in g.watcher.interruptions], 'delivered': g.deliveries}))"
)


def start_kernel(group: Cgroup, snapdir: str) -> Kernel:
    """A kernel with the watcher in the benchmark's memory cgroup, set up for the runs."""
    kernel = Kernel(snapdir, "interrupt.ipynb", cgroup=group)
    time.sleep(1.5)  # the watcher reads its new cgroup
    kernel.output(SETUP, timeout=30)
    return kernel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    args = parser.parse_args()
    group = memory_limited(LIMIT, BENCH)
    snapdir = tempfile.mkdtemp(prefix="cg-interrupt-")
    results = {}
    kernel = start_kernel(group, snapdir)
    try:
        for rate in RATES:
            stopped, killed = 0, 0
            reactions = []
            for _ in range(args.runs):
                try:
                    kernel.output(grow_call(rate, LIMIT, 0.7), timeout=30)
                except Exception:  # noqa: BLE001 - the kernel died: no reply comes
                    pass
                if kernel.manager.is_alive():
                    stopped += 1
                else:
                    killed += 1
                    kernel.stop()
                    kernel = start_kernel(group, snapdir)
                    continue
            report = json.loads(kernel.output(REPORT, timeout=30).strip().splitlines()[-1])
            reactions = [(b - a) * 1000 for a, b in zip(report["detected"], report["delivered"])][-stopped:] if stopped else []
            results[rate] = {"stopped": stopped, "killed": killed, "reaction_ms": reactions}
            p50 = percentile(reactions, 50) if reactions else float("nan")
            p99 = percentile(reactions, 99) if reactions else float("nan")
            print(
                f"{rate / 1e6:6.0f} MB/s: stopped {stopped}/{args.runs}, killed {killed}; reaction p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                flush=True,
            )
            kernel.stop()  # a fresh kernel per rate: its interruption record starts empty
            kernel = start_kernel(group, snapdir)
    finally:
        kernel.stop()
        group.remove()
    idle = watcher_idle_cpu(args.idle_seconds)
    print(f"watcher idle CPU: {idle:.3f} % of one core")
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "interrupt_reaction.json"), "w") as f:
        json.dump({"rates": {str(k): v for k, v in results.items()}, "watcher_idle_cpu_percent": idle}, f, indent=2)


if __name__ == "__main__":
    main()
