"""The race against the OOM killer, with cell-stopping off and snapshots written at a Drive-like speed.

A kernel in a real 1.5 GiB memory cgroup holds a 400 MB array, and its disk writes are throttled
to 150 MB/s by a real blkio cgroup (Google Drive is slower still): a snapshot takes almost 3 s.
- The next cell runs at once (as "Run all" does) and grows memory at 250 MB/s: the OOM killer
  strikes about 4 s later. A snapshot started at the fixed 85 % level would need 3 s with 0.9 s
  left; the watcher must start it by the deadline the growth sets.
- The kernel sits idle a few seconds, then a cell grows memory at 1 GB/s: no snapshot started
  after the growth can finish in the second left; the background snapshot must already be there.
Either way a complete snapshot of every variable that existed before the runaway cell survives.
"""

import asyncio

import pytest
from kernel_helpers import start_notebook_kernel, wait_for_postmortem
from runaway import grow_cell


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ColabGuard"]["interrupt_cells"] = False  # the last line of defence, off here
    jp_server_config["ColabGuard"]["background_snapshots"] = True
    return jp_server_config


SETUP = """
import numpy as np, hashlib
held = np.random.default_rng(1).random(50_000_000)   # 400 MB
names = [f"row-{i}" for i in range(50_000)]
"""
FINGERPRINT = "print(hashlib.sha1(held.tobytes()).hexdigest(), names[-1])"


async def reconnect_after_restart(kernel, manager) -> None:
    """Wait for the server's restarter to bring the kernel back, then connect a fresh client."""
    for _ in range(60):
        if await manager.is_alive():
            break
        await asyncio.sleep(0.5)
    await kernel.connect()


@pytest.mark.cgroup
@pytest.mark.parametrize("rate_mb, idle_seconds", [(250, 0), (1000, 7)])
async def test_a_complete_snapshot_survives_fast_growth(
    jp_fetch, jp_serverapp, memory_cgroup, slow_disk, tmp_path, rate_mb, idle_seconds
):
    # Given a notebook kernel in a real 1.5 GiB memory cgroup, writing at 150 MB/s, holding 400 MB
    group = memory_cgroup(1536 << 20)
    throttle = slow_disk(str(tmp_path), 150_000_000)
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, f"race-{rate_mb}.ipynb")
    manager = jp_serverapp.kernel_manager.get_kernel(kernel.id)
    group.write("cgroup.procs", str(manager.provisioner.process.pid))
    with open(throttle, "w") as f:
        f.write(str(manager.provisioner.process.pid))
    await asyncio.sleep(1.5)  # the watcher notices its new cgroup at its next reading
    assert (await kernel.run(SETUP + FINGERPRINT))["error"] is None
    fingerprint = (await kernel.run(FINGERPRINT))["text"]
    await asyncio.sleep(idle_seconds)

    # When the next cell grows memory at once, until the OOM killer strikes
    kernel.client.execute(grow_cell(rate_mb * 1e6))
    report = await wait_for_postmortem(jp_fetch, kernel.id)
    assert report is not None and report["cause"] == "oom-killer", report

    # Then a complete snapshot with every variable from before the runaway cell survived the kill
    snap = report["snapshot"]
    assert snap is not None and {"held", "names"} <= set(snap["variables"]), report
    # And the restarted kernel restores them exactly
    await reconnect_after_restart(kernel, manager)
    try:
        out = await kernel.run("%guard restore")
        assert out["error"] is None and "Restored" in out["text"], out
        assert (await kernel.run(FINGERPRINT))["text"] == fingerprint
    finally:
        kernel.stop()


MUTATING_SETUP = """
import numpy as np, pandas as pd
table = {f"row-{i}": i for i in range(200_000)}   # a dict that existed before the runaway cell
rows = [str(i) for i in range(100_000)]
frame = pd.DataFrame({"a": np.arange(100_000), "b": [str(i) for i in range(100_000)]})
"""
# "Run All": the runaway cell starts the moment the setup ends and grows the variables that existed
# before it, by adding to them, until the OOM killer strikes
MUTATE = """
import time
chunk = 20 << 20
while True:
    for _ in range(4):
        table[f"grow-{{len(table)}}"] = np.ones(chunk // 8)
        rows.append("x" * 1000)
    time.sleep(4 * chunk / {rate})
"""


@pytest.mark.cgroup
@pytest.mark.parametrize("rate", [250e6, 1e9])
async def test_run_all_growing_existing_variables_restores_every_one(jp_fetch, jp_serverapp, memory_cgroup, rate):
    # Given a notebook kernel in a real 1.5 GiB container, cell-stopping off
    group = memory_cgroup(3 << 29)
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "run-all.ipynb")
    manager = jp_serverapp.kernel_manager.get_kernel(kernel.id)
    group.write("cgroup.procs", str(manager.provisioner.process.pid))
    await asyncio.sleep(1.5)
    try:
        # When "Run All" runs the setup and, with no pause, a cell that grows `table` and `rows`
        kernel.client.execute(MUTATING_SETUP)
        kernel.client.execute(MUTATE.format(rate=rate))
        report = await wait_for_postmortem(jp_fetch, kernel.id)
        assert report is not None and report["cause"] == "oom-killer", report
        # Then the newest snapshot has every variable that existed before the runaway cell
        snap = report["snapshot"]
        assert snap is not None and {"table", "rows", "frame"} <= set(snap["variables"]), report
        await reconnect_after_restart(kernel, manager)
        out = await kernel.run("%guard restore")
        assert out["error"] is None and "Restored" in out["text"], out
        check = "print(table['row-199999'], rows[99_999], frame['b'].iloc[-1], len(frame))"
        assert (await kernel.run(check))["text"] == "199999 99999 99999 100000\n"
    finally:
        kernel.stop()
