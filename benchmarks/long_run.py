"""Benchmark: long runs, resources before and after (target: flat, within 2 MiB and no leaked descriptor).

- ``watcher``: the real Watcher in this process, reading a cgroup v2 file tree whose usage the run
  moves: ``--snapshots`` background snapshots (a cell changes the namespace, the kernel goes idle)
  and ``--episodes`` memory episodes (usage crosses the warning and snapshot levels and falls back).
- ``server``: a real jupyter_server with colab-guard, ``--clients`` clients polling resources,
  sessions, history and snapshots every 2 s for ``--seconds``, a kernel started and shut down
  every 20 s.

Each reports RSS, threads and open files after a warm-up and at the end.

    python benchmarks/long_run.py watcher [--snapshots 2000] [--episodes 200]
    python benchmarks/long_run.py server [--clients 50] [--seconds 3600]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time

import psutil

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
from helpers import Container  # noqa: E402
from live_server import LiveServer  # noqa: E402

from colab_guard.contract.settings import WatcherSettings  # noqa: E402
from colab_guard.kernel.watcher import Watcher  # noqa: E402

POLLED = ["colab-guard/v1/resources", "colab-guard/v1/sessions", "colab-guard/v1/history?seconds=600", "colab-guard/v1/snapshots"]


def usage(process: psutil.Process) -> dict:
    """RSS, threads and open files of a process."""
    with process.oneshot():
        return {"rss": process.memory_info().rss, "threads": process.num_threads(), "fds": process.num_fds()}


def report(name: str, before: dict, after: dict) -> None:
    grew = (after["rss"] - before["rss"]) / (1 << 20)
    print(
        f"{name}: RSS {before['rss'] / (1 << 20):.1f} -> {after['rss'] / (1 << 20):.1f} MiB ({grew:+.1f}), "
        f"threads {before['threads']} -> {after['threads']}, open files {before['fds']} -> {after['fds']}",
        flush=True,
    )


def run_watcher(snapshots: int, episodes: int) -> None:
    work = tempfile.mkdtemp(prefix="cg-long-")
    box = Container(work)
    namespace: dict = {"data": list(range(1000)), "step": 0}
    settings = WatcherSettings(notebook="long.ipynb", heartbeat_interval=0, background_idle=0.0, background_interval=0.0)
    watcher = Watcher(namespace, settings, os.path.join(work, "snaps"), notify=lambda level, message: None, reader=box.reader())
    me = psutil.Process()

    def step() -> None:
        watcher.check()
        watcher.wait_snapshot()

    taken: set[str] = set()

    def background(n: int) -> None:
        for i in range(n):
            namespace["step"] = i  # a cell changed the namespace, then the kernel went idle
            watcher.cell_finished()
            watcher.cell_state.update(executing=False, idle_since=time.time() - 1)
            watcher.snapshots.background_at = 0.0  # throttling is not what this run measures
            step()
            if watcher.last_snapshot is not None:
                taken.add(watcher.last_snapshot.id)

    def episode(n: int) -> None:
        for _ in range(n):
            for percent in (50, 80, 90, 96, 50):
                box.use(percent)
                namespace["step"] += 1
                watcher.cell_finished()
                step()

    box.use(40)
    background(50)  # warm-up: imports, caches, the first files
    episode(5)
    gc.collect()
    before = usage(me)
    taken.clear()
    started = time.monotonic()
    background(snapshots)
    episode(episodes)
    gc.collect()
    after = usage(me)
    print(f"{len(taken)} background snapshots taken and {episodes} memory episodes in {time.monotonic() - started:.0f} s")
    report("watcher", before, after)


async def poll(server: LiveServer, stop: float, counts: dict) -> None:
    import httpx

    headers = {"Authorization": f"token {server.token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client:
        while time.monotonic() < stop:
            for path in POLLED:
                response = await client.get("/" + path)
                counts[response.status_code] = counts.get(response.status_code, 0) + 1
            await asyncio.sleep(2)


async def churn(server: LiveServer, stop: float) -> int:
    """Start a kernel and shut it down, every 20 s."""
    import httpx

    started = 0
    headers = {"Authorization": f"token {server.token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as client:
        while time.monotonic() < stop:
            kernel = (await client.post("/api/kernels", json={"name": "python3"})).json()
            started += 1
            await asyncio.sleep(10)
            await client.delete(f"/api/kernels/{kernel['id']}")
            await asyncio.sleep(10)
    return started


def run_server(clients: int, seconds: float) -> None:
    server = LiveServer(tempfile.mkdtemp(prefix="cg-long-"))
    try:
        server.wait_ready()
        process = psutil.Process(server.process.pid)

        async def load(duration: float) -> tuple[dict, int]:
            stop = time.monotonic() + duration
            counts: dict = {}
            results = await asyncio.gather(churn(server, stop), *(poll(server, stop, counts) for _ in range(clients)))
            return counts, results[0]

        asyncio.run(load(min(60.0, seconds / 10)))  # warm-up
        before = usage(process)
        counts, kernels = asyncio.run(load(seconds))
        time.sleep(3)  # the last kernel's shutdown settles
        after = usage(process)
        print(f"{clients} clients for {seconds:.0f} s, {kernels} kernels started and stopped; answers: {counts}")
        report("server", before, after)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["watcher", "server"])
    parser.add_argument("--snapshots", type=int, default=2000)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3600)
    args = parser.parse_args()
    if args.what == "watcher":
        run_watcher(args.snapshots, args.episodes)
    else:
        run_server(args.clients, args.seconds)


if __name__ == "__main__":
    main()
