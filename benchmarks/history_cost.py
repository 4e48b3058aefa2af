"""Benchmark: what one GET /colab-guard/v1/history costs the server, with 8 GPUs and an hour of rows.

Before the cache, every request rebuilt and serialised the hour (``History.since`` + ``json.dumps``);
now the JSON is built once per sample and window (``History.serialized``), and a client polling
between samples gets 304 Not Modified (no body). Measured in one run, as ratios to the rebuild.

    python benchmarks/history_cost.py [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import time

from colab_guard.server.history import History

GPUS, ROWS = 8, 3600


def filled() -> History:
    history = History(seconds=ROWS, interval=1.0)
    for t in range(ROWS):
        gpus = [{"utilization_gpu": (t + i) % 100, "memory_used": (t * 1_000_003 + i) % (80 << 30)} for i in range(GPUS)]
        history.add(1.8e9 + t, 10 << 30, 16 << 30, gpus)
    return history


def per_request(fn, requests: int) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        fn()
    return (time.perf_counter() - start) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    history = filled()
    rebuild = per_request(lambda: json.dumps(history.since(3600)).encode(), args.requests)
    history.serialized(3600)  # the first request of a sample builds it
    cached = per_request(lambda: history.serialized(3600), args.requests)
    size = len(history.serialized(3600))
    print(f"rebuilt per request (before): {rebuild * 1e3:.2f} ms, {size / 1024:.0f} KiB")
    print(
        f"cached per sample (after):    {cached * 1e6:.1f} us ({cached / rebuild:.5f}x), same body; 304 between samples: 0 bytes"
    )


if __name__ == "__main__":
    main()
