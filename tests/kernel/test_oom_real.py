"""A real out-of-memory kill of a real kernel in a real cgroup v1 memory cgroup.

The kernel allocates until the kernel's OOM killer takes it; the watcher must have snapshotted the
variables first, the server must say the OOM killer did it, and a new kernel must get them back.
"""

import asyncio

import pytest
from kernel_helpers import start_notebook_kernel, wait_for_postmortem
from runaway import grow_cell

MiB = 1 << 20


@pytest.fixture
def jp_server_config(jp_server_config):
    # the watcher would otherwise stop the runaway cell before the kill (test_interrupt_real.py)
    jp_server_config["ColabGuard"]["interrupt_cells"] = False
    return jp_server_config


SETUP = """
import numpy as np, pandas as pd, hashlib, time
big = np.random.default_rng(7).random(20_000_000)             # 160 MB of float64
frame = pd.DataFrame({"x": np.arange(100_000), "y": np.random.default_rng(8).random(100_000)})
labels = [f"item-{i}" for i in range(10_000)]
same = labels                                                   # a second name for the same list
"""
# Printed before the kill and after the restore: equal only if every value and the aliasing survived.
FINGERPRINT = "print(hashlib.sha1(big.tobytes()).hexdigest(), float(frame.y.sum()), labels[-1], same is labels)"

# Grows by 20 MiB every 0.1 s (about 200 MB/s), as a runaway cell does.
RUNAWAY = grow_cell(200e6)


@pytest.mark.cgroup
async def test_oom_killed_kernel_snapshot_postmortem_and_restore(jp_fetch, jp_serverapp, memory_cgroup):
    # Given a notebook kernel moved into a real 1 GiB memory cgroup, holding some variables
    group = memory_cgroup(1 << 30)
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "oom.ipynb")
    manager = jp_serverapp.kernel_manager.get_kernel(kernel.id)
    pid = manager.provisioner.process.pid
    group.write("cgroup.procs", str(pid))
    await asyncio.sleep(1.5)  # the watcher notices its new cgroup at its next reading
    assert (await kernel.run(SETUP))["error"] is None
    fingerprint = (await kernel.run(FINGERPRINT))["text"]
    assert fingerprint.endswith("item-9999 True\n")

    # When a cell allocates until the OOM killer strikes
    kernel.client.execute(RUNAWAY)
    report = await wait_for_postmortem(jp_fetch, kernel.id)
    assert report is not None, "the kernel did not die within 60 s"
    assert "oom_kill 1" in group.read("memory.oom_control")

    # Then the server says the OOM killer did it, with the memory figures before death
    assert report["cause"] == "oom-killer" and report["confidence"] == "certain", report
    assert report["signal"] == "SIGKILL" and report["oom_kills_after"] > report["oom_kills_before"]
    assert report["limit"] == 1 << 30 and report["percent"] >= 85
    assert report["notebook"].endswith("oom.ipynb")
    # And a complete snapshot was taken before the kill, with every variable
    snap = report["snapshot"]
    assert snap is not None and {"big", "frame", "labels", "same"} <= set(snap["variables"])
    assert "memory at" in snap["reason"]

    # And the restarted kernel knows why its predecessor died, and restores the variables exactly
    for _ in range(60):
        if await manager.is_alive() and manager.provisioner.process.pid != pid:
            break
        await asyncio.sleep(0.5)
    await kernel.connect()
    try:
        # the first cell run in the new kernel greets the user with why the previous one died
        out = await kernel.run("import colab_guard.kernel as k")
        greeting = out["data"][0]["text/plain"]
        assert "killed, most likely by the out-of-memory killer, at" in greeting and "of 1.0 GiB" in greeting
        assert "%guard restore" in greeting and "variables" in greeting
        out = await kernel.run("%guard restore")
        assert out["error"] is None and "Restored" in out["text"], out
        assert (await kernel.run(FINGERPRINT))["text"] == fingerprint
    finally:
        kernel.stop()
