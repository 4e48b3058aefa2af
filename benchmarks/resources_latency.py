"""Benchmark: GET /colab-guard/v1/resources against jupyter-resource-usage's GET /api/metrics/v1.

Both extensions run in the same jupyter_server with N idle python3 kernels; requests alternate
between the two endpoints over keep-alive connections, so machine noise hits both alike.
Then the server's resident memory with colab-guard loaded vs not (same server, no kernels).

    python benchmarks/resources_latency.py [--requests 1000] [--kernels 20]

Targets (issue 3): p50 at most half of jupyter-resource-usage's, p99 under 5 ms, extra RSS < 25 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from live_server import TOKEN, LiveServer  # noqa: F401 - TOKEN for the other benchmarks


class Server(LiveServer):
    """A jupyter_server subprocess on loopback with the given extensions enabled."""

    def __init__(self, extensions: dict[str, bool]):
        root = tempfile.mkdtemp(prefix="cg-bench-")
        extra = ["--MultiKernelManager.default_kernel_name=python3", "--ServerApp.log_level=WARN"]
        super().__init__(root, *extra, extensions=extensions, env=dict(os.environ))
        self.wait_ready()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summarize(times: dict[str, list[float]]) -> dict[str, dict]:
    """p50, p99 and mean of each endpoint's latencies (ms), printed as a table."""
    stats = {}
    width = max(len(name) for name in times)
    for name, values in times.items():
        stats[name] = {"p50": percentile(values, 50), "p99": percentile(values, 99), "mean": statistics.fmean(values)}
        print(f"  {name:{width}s} p50 {stats[name]['p50']:7.3f}  p99 {stats[name]['p99']:7.3f}  mean {stats[name]['mean']:7.3f}")
    return stats


def latency(server: Server, requests: int) -> dict[str, list[float]]:
    paths = {"colab-guard": "/colab-guard/v1/resources", "jupyter-resource-usage": "/api/metrics/v1"}
    for path in paths.values():  # warm up both handlers
        for _ in range(20):
            status = server.request("GET", path).status
            assert status == 200, (path, status)
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(requests):
        for name, path in paths.items():
            start = time.perf_counter()
            status = server.request("GET", path).status
            times[name].append((time.perf_counter() - start) * 1000)
            assert status == 200
    return times


def settled_rss(server: Server) -> int:
    """RSS after the server has answered a few requests and settled."""
    server.request("GET", "/api/status")
    time.sleep(3)
    samples = []
    for _ in range(5):
        samples.append(server.rss())
        time.sleep(0.5)
    return int(statistics.median(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--kernels", type=int, default=20)
    args = parser.parse_args()

    server = Server({"colab_guard": True, "jupyter_resource_usage": True})
    try:
        for _ in range(args.kernels):
            status = server.request("POST", "/api/kernels", b"{}").status
            assert status == 201, status
        time.sleep(5 + args.kernels * 0.3)  # let every kernel start and go idle
        kernels = json.loads(server.request("GET", "/api/kernels").body)
        times = latency(server, args.requests)
    finally:
        server.stop()

    print(f"{len(kernels)} kernels running, {args.requests} interleaved requests per endpoint, ms:")
    stats = summarize(times)
    cg, jru = stats["colab-guard"], stats["jupyter-resource-usage"]
    print(f"  ratio colab-guard / jupyter-resource-usage: p50 {cg['p50'] / jru['p50']:.2f}x  p99 {cg['p99'] / jru['p99']:.2f}x")

    rss = {}
    for label, enabled in (("without", False), ("with", True)):
        server = Server({"colab_guard": enabled, "jupyter_resource_usage": False})
        try:
            status = server.request("GET", "/colab-guard/v1/resources").status
            assert status == (200 if enabled else 404), status
            rss[label] = settled_rss(server)
        finally:
            server.stop()
    extra = (rss["with"] - rss["without"]) / (1 << 20)
    print(
        f"server RSS without colab-guard {rss['without'] / (1 << 20):.1f} MiB, with {rss['with'] / (1 << 20):.1f} MiB: extra {extra:.1f} MiB"
    )
    results = {"latency_ms": stats, "kernels": len(kernels), "requests": args.requests, "rss_extra_mib": extra}
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "resources_latency.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
