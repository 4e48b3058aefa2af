"""Where the kernel's own server runs colab-guard (a local runtime Colab connects to, JupyterLab),
its countdowns, policy and cost reach %guard status through the on-disk contract, and the kernels'
memory by cell reaches the sessions endpoint through their heartbeats."""

import asyncio
import json
import re

import pytest
from kernel_helpers import start_notebook_kernel


@pytest.fixture
def jp_server_config(jp_server_config, nvml_recording, tmp_path):
    """Real kernels, a private snapshot dir, and limits mirrored as an admin would for Colab's."""
    jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
    jp_server_config["ColabGuard"].update(
        snapshot_dir=str(tmp_path / "snapshots"),
        background_snapshots=False,
        max_lifetime=3600,
        idle_timeout=900,
        nvml_recording=nvml_recording("t4"),
        rates={"T4": {"rate": 1.96, "unit": "compute units"}},
    )
    return jp_server_config


STATUS = "import json; print(json.dumps(__import__('colab_guard').kernel.get_guard().status()))"


async def status_of(kernel) -> dict:
    out = await kernel.run(STATUS)
    assert out["error"] is None, out
    return json.loads(out["text"])


async def test_the_servers_countdowns_policy_and_cost_reach_the_kernels_status(jp_fetch, jp_serverapp):
    # Given a notebook kernel started by a server that mirrors a 1 h lifetime and a 15 min idle timeout
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "train.ipynb")
    try:
        # When the kernel asks for its status (the server writes its state every housekeeping tick)
        for _ in range(40):
            status = await status_of(kernel)
            if status["server"] is not None:
                break
            await asyncio.sleep(0.25)
        # Then the lifetime is the server's, counted from the server's start
        runtime = status["runtime"]
        assert runtime["max_lifetime"] == 3600 and runtime["max_lifetime_source"].startswith("ColabGuard.max_lifetime")
        assert runtime["started_how"] == "when the colab-guard server started"
        # the same countdown as the sessions endpoint shows the panel
        body = json.loads((await jp_fetch("colab-guard", "v1", "sessions")).body)
        assert abs(body["server"]["seconds_to_lifetime_end"] - runtime["seconds_left"]) < 5
        # And the idle disconnect counts down from the server's view of activity
        idle = status["idle"]
        assert idle["source"] == "the colab-guard server's countdown" and 0 < idle["seconds_left"] <= 900
        # And the cost is the server's
        assert status["cost"]["pattern"] == "T4" and status["cost"]["unit"] == "compute units"
        out = await kernel.run("%guard status")
        text = out["data"][0]["text/plain"]
        assert re.search(r"Idle disconnect in 1[45]:\d\d \(idle disconnect, the colab-guard server's countdown\)", text), text
        assert "Runtime ends in " in text and "from the colab-guard server" in text
        assert "Countdowns and policy from the colab-guard server (updated" in text
    finally:
        kernel.stop()


async def test_the_sessions_endpoint_shows_each_kernels_memory_by_cell(jp_fetch, jp_serverapp):
    # Given a notebook kernel where one cell allocates 400 MB
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "cells.ipynb")
    try:
        assert (await kernel.run("import numpy as np"))["error"] is None
        assert (await kernel.run("block = np.ones(50_000_000)"))["error"] is None
        # When the panel polls the sessions endpoint (the heartbeat carries the last cells)
        cell = None
        for _ in range(60):
            body = json.loads((await jp_fetch("colab-guard", "v1", "sessions")).body)
            (k,) = body["kernels"]
            found = [c for c in k["cells"] or [] if c["first_line"] == "block = np.ones(50_000_000)"]
            if found:
                (cell,) = found
                break
            await asyncio.sleep(0.25)
        # Then the kernel's entry lists that cell with what it added
        assert cell is not None, k
        assert cell["rss_growth"] == pytest.approx(400_000_000, rel=0.1) and cell["running"] is False
        # numbered as IPython counts cells (how it starts differs between IPython versions): the next one
        numbers = {c["first_line"]: c["number"] for c in k["cells"]}
        assert cell["growth"] is not None and cell["number"] == numbers["import numpy as np"] + 1
    finally:
        kernel.stop()
