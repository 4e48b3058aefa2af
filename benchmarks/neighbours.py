"""Benchmark: several notebooks in one container, one of them growing memory.

Two or three real kernels with the watcher share one real cgroup v1 memory cgroup: one or two run
a steady training loop (they allocate nothing; the first holds the most memory), one grows memory
at a steady rate. With cell-stopping on (the default), a run counts when only the grower's cell is
stopped, every steady loop runs to its end and every kernel keeps its variables. With it off, the
OOM killer ends a kernel: a run counts when that kernel left a complete, current snapshot.

    python benchmarks/neighbours.py [--runs 3] [--limits 2,8] [--rates 100,300,1000]

Targets (issue 20): every run, in both modes. Needs root and the cgroup v1 memory controller.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from kernel_harness import BENCH, Kernel, memory_limited
from runaway import GROW, grow_call

GiB = 1 << 30
STEADY = (
    "import numpy as np, time\nweights = np.ones({nbytes} // 8)\nhistory = {{'loss': [1.0]}}\n"
    "def train(seconds):\n"
    "    t0, steps = time.time(), 0\n"
    "    while time.time() - t0 < seconds:\n"
    "        weights[:1000] += 1.0; steps += 1\n"
    "    print('finished', steps)\n"
)
VARIABLES = {"steady": {"weights", "history"}, "grower": {"held"}}


def outputs(kernel: Kernel, msg_id: str, timeout: float) -> dict:
    """What one cell showed: its text, its displayed messages, whether it ended (or the kernel died)."""
    out: dict = {"text": "", "shown": [], "done": False}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kernel.client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            if kernel.manager.provisioner.process.poll() is not None:
                return out
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        content = msg["content"]
        if msg["msg_type"] == "stream":
            out["text"] += content["text"]
        elif msg["msg_type"] == "display_data":
            out["shown"].append(content["data"].get("text/plain", ""))
        elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
            out["done"] = True
            return out
    return out


def newest_snapshot(folder: str, notebook: str) -> dict | None:
    from colab_guard.contract.manifests import latest_manifest

    return latest_manifest(folder, notebook)


def one_run(limit: int, rate: float, steadies: int, interrupt: bool) -> dict:
    folder = tempfile.mkdtemp()
    group = memory_limited(limit, BENCH)
    settings = {"interrupt_cells": interrupt, "background_snapshots": True}
    holds = [int(limit * 0.5), int(limit * 0.1)][:steadies]  # the first holds the most: the OOM killer's pick
    kernels = {f"steady{i}": Kernel(folder, f"steady{i}.ipynb", **settings) for i in range(steadies)}
    kernels["grower"] = Kernel(folder, "grower.ipynb", **settings)
    try:
        for kernel in kernels.values():
            group.add(kernel.pid)
        time.sleep(1.5)
        for i in range(steadies):
            kernels[f"steady{i}"].output(STEADY.format(nbytes=holds[i]))
        kernels["grower"].output(GROW + "\nheld = list(range(1000))")
        time.sleep(3)  # background snapshots of the variables, as an idle notebook gets them
        seconds = 5 + limit / rate
        loops = {name: k.client.execute(f"train({seconds})") for name, k in kernels.items() if name != "grower"}
        time.sleep(1)
        grown = outputs(kernels["grower"], kernels["grower"].client.execute(grow_call(rate, limit, 0.0)), seconds + 30)
        trained = {name: outputs(kernels[name], msg_id, seconds + 30) for name, msg_id in loops.items()}
        dead = [name for name, k in kernels.items() if k.manager.provisioner.process.poll() is not None]
        if interrupt:
            only_grower = any("stopped this cell" in t for t in grown["shown"]) and not dead
            for out in trained.values():
                only_grower = (
                    only_grower and "finished" in out["text"] and not any("stopped this cell" in t for t in out["shown"])
                )
            return {"ok": only_grower, "dead": dead}
        if not dead:
            return {"ok": False, "dead": dead, "why": "no kernel was killed"}
        complete = True
        for name in dead:
            snap = newest_snapshot(folder, f"{name}.ipynb")
            wanted = VARIABLES["grower" if name == "grower" else "steady"]
            complete = complete and snap is not None and wanted <= set(snap["variables"])
        return {"ok": complete, "dead": dead}
    finally:
        for kernel in kernels.values():
            try:
                kernel.stop()
            except Exception:  # noqa: BLE001 - a killed kernel
                pass
        group.remove()
        shutil.rmtree(folder, ignore_errors=True)  # the snapshots of a run: gigabytes each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limits", default="2", help="GiB, comma-separated")
    parser.add_argument("--rates", default="100,300,1000", help="MB/s, comma-separated")
    args = parser.parse_args()
    print("limit  rate      steady  stopping  ok/runs  killed")
    for limit in [float(x) for x in args.limits.split(",")]:
        for rate in [float(x) for x in args.rates.split(",")]:
            for steadies in (1, 2):
                for interrupt in (True, False):
                    results = [one_run(int(limit * GiB), rate * 1e6, steadies, interrupt) for _ in range(args.runs)]
                    ok = sum(r["ok"] for r in results)
                    killed = json.dumps([r["dead"] for r in results])
                    mode = "on" if interrupt else "off"
                    print(
                        f"{limit:.0f} GiB  {rate:>4.0f} MB/s  {steadies}       {mode:<8}  {ok}/{len(results)}      {killed}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
