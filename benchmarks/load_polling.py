"""Load: many clients polling /colab-guard/v1/resources and /sessions of one real jupyter_server.

N concurrent clients (asyncio, one keep-alive HTTP/1.1 connection each, on loopback) poll both
endpoints for a fixed time against a `jupyter server` subprocess running a few idle python3
kernels. By default each client polls like an open JupyterLab tab: both endpoints once per
``--interval`` seconds, starts spread over the first interval; ``--interval 0`` polls back to
back (a closed loop: the server's throughput limit, where latency is mostly queueing).
Bounded in count and time: it stops by itself after ``--seconds`` (plus at most the request
timeout). Reports errors, requests/s and p50/p99/max latency per endpoint, and the server's CPU.

    python benchmarks/load_polling.py [--clients 200] [--seconds 30] [--kernels 4] [--interval 1.0]

Target (issue 7): no errors, p99 under 20 ms with 200 clients polling once a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from resources_latency import TOKEN, Server, percentile

ENDPOINTS = {"resources": "/colab-guard/v1/resources", "sessions": "/colab-guard/v1/sessions"}
REQUEST_TIMEOUT = 10.0


class Connection:
    """One keep-alive HTTP/1.1 connection on loopback (asyncio streams: the client's own cost stays
    far below the server's, which a general-purpose client with 200 pooled connections does not)."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAuthorization: token {TOKEN}\r\n\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" not in headers:
            raise ValueError(f"no Content-Length in the answer to {path} (status {status})")
        body = await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def client(port: int, deadline: float, interval: float, times: dict, errors: dict) -> None:
    """One polling client: both endpoints, then wait out the rest of its interval, until the deadline."""
    conn = Connection(port)
    if interval > 0:
        await asyncio.sleep(random.uniform(0, interval))  # tabs are not opened in the same millisecond
    try:
        while time.monotonic() < deadline:
            started = time.monotonic()
            for name, path in ENDPOINTS.items():
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.get(path), REQUEST_TIMEOUT)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if status != 200:
                        errors[name][f"HTTP {status}"] = errors[name].get(f"HTTP {status}", 0) + 1
                    else:
                        json.loads(body)  # a complete JSON body, as a client would parse it
                        times[name].append(elapsed)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    kind = type(exc).__name__
                    errors[name][kind] = errors[name].get(kind, 0) + 1
                    await conn.close()  # start afresh on a new connection
            if interval > 0:
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
    finally:
        await conn.close()


async def load(port: int, clients: int, seconds: float, interval: float) -> tuple[dict, dict, float]:
    times: dict[str, list[float]] = {name: [] for name in ENDPOINTS}
    errors: dict[str, dict[str, int]] = {name: {} for name in ENDPOINTS}
    warm = Connection(port)
    for path in ENDPOINTS.values():  # warm up: handlers imported, not counted
        assert (await warm.get(path))[0] == 200
    await warm.close()
    start = time.monotonic()
    deadline = start + seconds
    tasks = [asyncio.create_task(client(port, deadline, interval, times, errors)) for _ in range(clients)]
    # hard bound: a request in flight at the deadline gets its own timeout, no more
    done, pending = await asyncio.wait(tasks, timeout=seconds + 2 * REQUEST_TIMEOUT + 5)
    for task in pending:
        task.cancel()
    for task in done:
        task.result()
    elapsed = time.monotonic() - start
    return times, errors, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--kernels", type=int, default=4)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a client's polls; 0: back to back")
    args = parser.parse_args()
    if not 1 <= args.clients <= 1000 or not 1 <= args.seconds <= 600:
        parser.error("--clients must be 1..1000 and --seconds 1..600")

    server = Server({"colab_guard": True})
    try:
        for _ in range(args.kernels):
            status = server.request("POST", "/api/kernels", b"{}").status
            assert status == 201, status
        time.sleep(5 + args.kernels * 0.5)  # let every kernel start and go idle
        kernels = json.loads(server.request("GET", "/api/kernels").body)
        proc = psutil.Process(server.process.pid)
        cpu_before = proc.cpu_times()
        times, errors, elapsed = asyncio.run(load(server.port, args.clients, args.seconds, args.interval))
        cpu_after = proc.cpu_times()
        server_cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / elapsed
    finally:
        server.stop()

    mode = f"each polling every {args.interval:g} s" if args.interval > 0 else "back to back"
    print(f"{args.clients} clients {mode} for {elapsed:.1f} s, {len(kernels)} kernels, {os.cpu_count()} cores; ms:")
    results = {
        "clients": args.clients, "seconds": round(elapsed, 2), "interval": args.interval,
        "kernels": len(kernels), "server_cpu_cores": round(server_cpu, 3), "endpoints": {},
    }  # fmt: skip
    for name, values in times.items():
        n_errors = sum(errors[name].values())
        stats = {
            "requests": len(values) + n_errors,
            "errors": n_errors,
            "error_kinds": errors[name],
            "requests_per_s": round((len(values) + n_errors) / elapsed, 1),
            "p50_ms": round(percentile(values, 50), 3) if values else None,
            "p99_ms": round(percentile(values, 99), 3) if values else None,
            "max_ms": round(max(values), 3) if values else None,
        }
        results["endpoints"][name] = stats
        print(
            f"  {name:10s} {stats['requests']:7d} requests  {stats['requests_per_s']:8.1f}/s  errors {n_errors}"
            f"  p50 {stats['p50_ms']:7.3f}  p99 {stats['p99_ms']:7.3f}  max {stats['max_ms']:7.3f}"
        )
    print(f"  server CPU: {server_cpu:.2f} cores")
    ok = all(s["errors"] == 0 and (s["p99_ms"] or 0) < 20 for s in results["endpoints"].values())
    print("  target (no errors, p99 < 20 ms):", "met" if ok else "NOT met")
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "load_polling.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
