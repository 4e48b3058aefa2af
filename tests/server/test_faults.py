"""Faults at the boundaries, seen through the endpoints of a real server: the API keeps answering.

NVML fails at its boundary (the recorded-readings stand-in for pynvml raises pynvml's own
``NVMLError``, as a GPU falling off the bus does), and a cgroup v2 file vanishes from a tree laid
out in a temporary dir. ``/colab-guard/v1/resources`` must keep answering 200 with the failure
stated, ``/colab-guard/v1/sessions`` must keep answering, and both must recover by themselves.
"""

import asyncio
import json
import os
import shutil
import time

import pynvml
import pytest
from helpers import write_tree

GiB = 1 << 30
HOST_TOTAL = 32768000 * 1024
MEMINFO = "MemTotal:       32768000 kB\nMemFree:        1000000 kB\nMemAvailable:   30000000 kB\n"
CONTAINER = "sys/kubepods/pod1/ctr"


@pytest.fixture
def cgroup_tree(tmp_path):
    """A cgroup v2 container limited to 4 GiB (the layout of tests/test_cgroup.py)."""
    root = tmp_path / "fs"
    write_tree(
        root,
        {
            "proc/self/cgroup": "0::/kubepods/pod1/ctr\n",
            "proc/meminfo": MEMINFO,
            "sys/cgroup.controllers": "cpuset cpu io memory pids\n",
            f"{CONTAINER}/memory.max": f"{4 * GiB}\n",
            f"{CONTAINER}/memory.current": f"{3 * GiB}\n",
            f"{CONTAINER}/memory.stat": f"anon {2 * GiB}\nfile {GiB}\nactive_file {GiB // 2}\ninactive_file {GiB // 4}\n",
            f"{CONTAINER}/memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
            f"{CONTAINER}/cpu.max": "max 100000\n",
        },
    )
    return root


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path, cgroup_tree, nvml_recording, monkeypatch):
    """A server replaying a T4's NVML readings from a private copy, over the cgroup tree above."""
    monkeypatch.delenv("MEM_LIMIT", raising=False)  # the cgroup, not the spawner, sets the limit here
    recording = tmp_path / "t4.json"
    shutil.copy(nvml_recording("t4"), recording)
    jp_server_config["ColabGuard"].update(
        nvml_recording=str(recording),
        # NVML re-initialisation is retried every 30 s by default; a test cannot wait that long
        nvml_retry_seconds=0.2,
        cgroup_root=str(cgroup_tree / "sys"),
        proc_root=str(cgroup_tree / "proc"),
        snapshot_dir=str(tmp_path / "snapshots"),
        usage_log_path=str(tmp_path / "usage.jsonl"),
    )
    return jp_server_config


@pytest.fixture
def colab_guard_app(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
    return app


async def get_json(jp_fetch, endpoint: str) -> dict:
    """One GET of a colab-guard endpoint, which must answer 200 with JSON whatever is failing."""
    response = await jp_fetch("colab-guard", "v1", endpoint, raise_error=False)
    assert response.code == 200, (endpoint, response.code, response.body[:500])
    return json.loads(response.body)


async def poll_resources(jp_fetch, until, timeout: float = 10.0) -> dict:
    """Poll /resources (every answer must be a 200) until ``until(body)`` holds; the last body."""
    deadline = time.monotonic() + timeout
    while True:
        body = await get_json(jp_fetch, "resources")
        if until(body) or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def test_gpu_lost_mid_run_is_reported_and_recovers(jp_fetch, colab_guard_app):
    nvml = colab_guard_app.sampler.accelerators.readers[0].reader._nvml  # the replayed NVML library the server reads through
    # Given a server reading a T4 through NVML
    body = await poll_resources(jp_fetch, lambda b: b["accelerator_status"] == "ok")
    assert body["accelerator_status"] == "ok" and body["accelerator_error"] is None
    assert [gpu["name"] for gpu in body["accelerators"]] == ["Tesla T4"]

    # When the GPU falls off the bus: every NVML query raises NVML_ERROR_GPU_IS_LOST
    nvml.fail_with = pynvml.NVML_ERROR_GPU_IS_LOST
    try:
        body = await poll_resources(jp_fetch, lambda b: b["accelerator_status"] != "ok")
        # Then /resources still answers 200, stating the error with NVML's own message
        assert body["accelerator_status"] == "error"
        assert "GPU is lost" in body["accelerator_error"]
        assert body["accelerators"] == []  # no stale figures from before the loss
        # And the rest of the sample still comes back
        assert body["host"]["memory"]["limit"] == 4 * GiB
        # And it stays so while the fault lasts (the reader re-initialises and fails again)
        for _ in range(5):
            await asyncio.sleep(0.1)
            body = await get_json(jp_fetch, "resources")
            assert body["accelerator_status"] == "error" and "GPU is lost" in body["accelerator_error"]
        # And /sessions keeps answering meanwhile
        sessions = await get_json(jp_fetch, "sessions")
        assert sessions["kernels"] == [] and sessions["policy"]["idle_timeout"]["source"] == "ColabGuard.idle_timeout"
    finally:
        # When the GPU comes back
        nvml.fail_with = None
    calls = nvml.calls
    body = await poll_resources(jp_fetch, lambda b: b["accelerator_status"] == "ok")
    # Then NVML is initialised afresh and the readings are the GPU's again
    assert body["accelerator_status"] == "ok" and body["accelerator_error"] is None
    assert [gpu["name"] for gpu in body["accelerators"]] == ["Tesla T4"]
    assert nvml.calls > calls
    assert (await get_json(jp_fetch, "sessions"))["kernels"] == []


async def test_cgroup_file_vanishing_is_reported_and_recovers(jp_fetch, cgroup_tree):
    current = cgroup_tree / CONTAINER / "memory.current"
    # Given a container whose cgroup v2 limit (4 GiB) is the real one
    body = await poll_resources(jp_fetch, lambda b: b["host"]["memory"]["limit_source"] == "cgroup-v2")
    memory = body["host"]["memory"]
    assert (memory["limit"], memory["limit_source"], memory["error"]) == (4 * GiB, "cgroup-v2", None)
    assert memory["working_set"] == 3 * GiB - GiB // 4

    # When memory.current disappears mid-run (the cgroup is being torn down or remounted)
    saved = current.read_text()
    os.unlink(current)
    try:
        body = await poll_resources(jp_fetch, lambda b: b["host"]["memory"].get("error"))
        memory = body["host"]["memory"]
        # Then /resources still answers 200 and says which file could not be read
        assert memory["error"] and "cannot read the v2 memory cgroup" in memory["error"]
        assert "memory.current" in memory["error"]
        # And the limit falls back to the next source (no MEM_LIMIT, no admin limit: the host's RAM)
        assert (memory["limit"], memory["limit_source"]) == (HOST_TOTAL, "host")
        assert memory["cgroup"] is None and memory["total"] == HOST_TOTAL
        # And /sessions keeps answering
        sessions = await get_json(jp_fetch, "sessions")
        assert sessions["server"]["started"] and sessions["kernels"] == []
    finally:
        # When the file is back
        current.write_text(saved)
    body = await poll_resources(jp_fetch, lambda b: b["host"]["memory"]["limit_source"] == "cgroup-v2")
    # Then the cgroup is found again and its limit applies
    memory = body["host"]["memory"]
    assert (memory["limit"], memory["limit_source"], memory["error"]) == (4 * GiB, "cgroup-v2", None)
    assert memory["cgroup"]["version"] == "v2"
    assert (await get_json(jp_fetch, "sessions"))["server"]["started"]
