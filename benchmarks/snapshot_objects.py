"""Benchmark: snapshot an object-heavy namespace against pickle.dump, cloudpickle and dill.dump_module.

The namespace holds what real notebooks hold beside arrays: a list of records (parsed JSON), a
DataFrame with string columns (pandas' string dtype and a plain object column), lists of token ids
and nested dicts, about ``--gib`` GiB in memory. Every method runs in a fresh child process in its
own cgroup v1 memory cgroup and reports its seconds and its extra peak charge
(``memory.max_usage_in_bytes`` minus the usage before: RSS and page cache). Baselines write to a
file and fsync it, as a snapshot does.

    python benchmarks/snapshot_objects.py [--gib 1] [--dir DIR] [--repeat 2]

Targets (issue 12): time at most 1.2x pickle.dump; extra charge at most 64 MiB + 5 % of the
namespace's size in memory (moonshot: 64 MiB whatever the size). Needs root and cgroup v1.
Baselines need the `bench` extra (dill).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_harness import child_in_cgroup

MiB = 1 << 20

CHILD = textwrap.dedent(
    r"""
    import json, os, pickle, sys, time
    import numpy as np, pandas as pd
    cg, method, out, gib = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    usage = lambda: int(open(os.path.join(cg, "memory.usage_in_bytes")).read())
    empty = usage()
    n = int(900_000 * gib)
    records = [{"id": i, "name": f"user-{i}", "email": f"user{i}@example.org", "score": i * 0.5, "tags": ["a", "b"]} for i in range(n)]
    frame = pd.DataFrame({
        "city": [f"city-{i % 5000}" for i in range(n)],
        "comment": pd.Series([f"comment number {i}" for i in range(n)], dtype=object),
        "value": np.arange(n, dtype=np.float64),
    })
    tokens = [list(range(i % 64)) for i in range(n // 2)]
    nested = {f"key-{i}": {"inner": [i, str(i)], "more": {"x": i, "y": float(i)}} for i in range(n // 4)}
    ns = {"records": records, "frame": frame, "tokens": tokens, "nested": nested}
    held = usage() - empty

    def fsynced(path, dump):
        with open(path, "wb") as f:
            dump(f)
            f.flush()
            os.fsync(f.fileno())

    before = usage()
    open(os.path.join(cg, "memory.max_usage_in_bytes"), "w").write("0")
    t = time.perf_counter()
    if method == "colab-guard":
        from colab_guard.snapshot import take_snapshot
        take_snapshot(ns, out, "bench.ipynb")
    elif method == "pickle":
        fsynced(os.path.join(out, "ns.pkl"), lambda f: pickle.dump(ns, f, protocol=5))
    elif method == "cloudpickle":
        import cloudpickle
        fsynced(os.path.join(out, "ns.pkl"), lambda f: cloudpickle.dump(ns, f, protocol=5))
    elif method == "dill":
        import dill, types
        module = types.ModuleType("__main__")
        module.__dict__.update(ns)
        fsynced(os.path.join(out, "ns.pkl"), lambda f: dill.dump_module(f, module=module))
    seconds = time.perf_counter() - t
    peak = int(open(os.path.join(cg, "memory.max_usage_in_bytes")).read())
    print(json.dumps({"seconds": seconds, "extra": peak - before, "held": held}))
    """
)


def run(method: str, gib: float, directory: str) -> dict:
    """One method in a fresh child process in its own memory cgroup."""
    out = tempfile.mkdtemp(dir=directory)
    try:
        return child_in_cgroup(CHILD, method, out, str(gib))
    except RuntimeError as exc:
        return {"error": str(exc)}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="size of the namespace in memory, roughly")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to write")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs per method (medians are reported)")
    args = parser.parse_args()
    methods = ["pickle", "colab-guard", "cloudpickle", "dill"]
    results: dict[str, list[dict]] = {m: [] for m in methods}
    for _ in range(args.repeat):  # interleaved, so a noisy moment hits every method alike
        for method in methods:
            results[method].append(run(method, args.gib, args.dir))
    base = statistics.median(r["seconds"] for r in results["pickle"] if "seconds" in r)
    print(f"{'method':<12} {'seconds':>8} {'x pickle':>9} {'extra MiB':>10} {'held MiB':>9} {'budget MiB':>11}")
    for method in methods:
        ok = [r for r in results[method] if "seconds" in r]
        if not ok:
            print(f"{method:<12} failed: {results[method][0].get('error')}")
            continue
        seconds = statistics.median(r["seconds"] for r in ok)
        extra = statistics.median(r["extra"] for r in ok) / MiB
        held = statistics.median(r["held"] for r in ok) / MiB
        print(f"{method:<12} {seconds:8.2f} {seconds / base:9.2f} {extra:10.0f} {held:9.0f} {64 + 0.05 * held:11.0f}")


if __name__ == "__main__":
    main()
