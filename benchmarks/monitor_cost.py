"""Benchmark: what ``%guard monitor`` costs the kernel, against the same kernel without it.

Two real kernels with colab-guard loaded run side by side over the same window (the machine is
shared and noisy: both see the same noise); one shows the monitor line, updated every
``--interval`` seconds (5 by default), the other does not. Reported: each kernel process's CPU
time over ``--seconds`` (60), the monitor's extra CPU as a percent of one core, the ratio of the
two, and how many updates the client received.

    python benchmarks/monitor_cost.py [--seconds 60] [--interval 5] [--rounds 3]

Target (issue 16): under 0.5 % of one core.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from kernel_harness import Kernel


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def drain(kernel: Kernel, seconds: float) -> int:
    """Receive the kernel's iopub messages for ``seconds`` (as a notebook would); the updates among them."""
    updates, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            continue
        updates += msg["msg_type"] == "update_display_data"
    return updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    snapdir = tempfile.mkdtemp(prefix="colab-guard-bench-")
    plain = Kernel(snapdir, "plain.ipynb")
    watched = Kernel(snapdir, "monitored.ipynb")
    results = []
    try:
        watched.output(f"%guard monitor {args.interval}")
        time.sleep(3)  # both settle after start-up
        for _ in range(args.rounds):
            before = {k: cpu_seconds(k.pid) for k in (plain, watched)}
            start = time.monotonic()
            updates = drain(watched, args.seconds)
            wall = time.monotonic() - start
            used = {name: cpu_seconds(k.pid) - before[k] for name, k in (("plain", plain), ("monitor", watched))}
            extra = 100 * (used["monitor"] - used["plain"]) / wall
            results.append(
                {
                    "seconds": round(wall, 1),
                    "cpu_plain_s": round(used["plain"], 4),
                    "cpu_monitor_s": round(used["monitor"], 4),
                    "extra_percent_of_a_core": round(extra, 4),
                    "ratio": round(used["monitor"] / used["plain"], 3) if used["plain"] else None,
                    "updates": updates,
                }
            )
            print(json.dumps(results[-1]), flush=True)
        watched.output("%guard monitor off")
    finally:
        plain.stop()
        watched.stop()
    worst = max(r["extra_percent_of_a_core"] for r in results)
    print(
        json.dumps(
            {
                "interval": args.interval,
                "rounds": len(results),
                "extra_percent_of_a_core_worst": worst,
                "extra_percent_of_a_core_median": sorted(r["extra_percent_of_a_core"] for r in results)[len(results) // 2],
                "target_percent": 0.5,
                "ok": worst < 0.5,
            }
        )
    )


if __name__ == "__main__":
    main()
