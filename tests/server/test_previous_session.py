"""A server that starts and finds a kernel heartbeat that stopped near the limit reports a likely OOM.

On Kubernetes with cgroup v2 the OOM killer takes the whole container, server included, so the only
evidence left is what the kernel wrote beside its snapshots.
"""

import json
import os
import time

import pytest

from colab_guard.contract.files import write_json_atomic
from colab_guard.snapshot import snapshot_root, take_snapshot

DEAD_PID = 2**22 + 12345  # above pid_max's default range: no such process


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    snapdir = str(tmp_path / "snapshots")
    take_snapshot({"weights": [1.0, 2.0]}, snapdir, "/home/ada/train.ipynb")
    for notebook, percent, clean in [
        ("/home/ada/train.ipynb", 97.5, False),
        ("/home/ada/ok.ipynb", 99.0, True),
        ("/home/ada/low.ipynb", 20.0, False),
    ]:
        root = snapshot_root(snapdir, notebook)
        os.makedirs(root, exist_ok=True)
        beat = {"pid": DEAD_PID, "time": time.time() - 60, "clean_exit": clean, "notebook": notebook,
                "working_set": int(percent * 1e7), "limit": int(1e9), "percent": percent, "peak_percent": percent}  # fmt: skip
        write_json_atomic(os.path.join(root, "heartbeat.json"), beat)
    jp_server_config["ColabGuard"]["snapshot_dir"] = snapdir
    return jp_server_config


async def test_stale_heartbeat_near_the_limit_is_reported(jp_fetch):
    body = json.loads((await jp_fetch("colab-guard", "v1", "postmortems")).body)
    assert body["kernels"] == []
    (report,) = body["previous_session"]  # not the clean exit, not the one far from the limit
    assert report["notebook"] == "/home/ada/train.ipynb"
    assert report["cause"] == "oom-killer" and report["confidence"] == "likely"
    assert report["percent"] == 97.5 and report["previous_session"] is True
    assert report["snapshot"]["variables"] == {"weights": "list of 2"}
    assert report["snapshot"]["restore"].startswith("%guard restore ")


async def test_metrics_count_the_previous_sessions_oom_kills(jp_fetch):
    # When /metrics is scraped, the fleet sees it too: the container's OOM kill left this evidence only
    body = (await jp_fetch("metrics")).body.decode()
    assert "\ncolab_guard_previous_session_oom_kills 1.0\n" in body
