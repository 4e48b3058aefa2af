"""The resources endpoint with a recorded two-A100 box replayed at the NVML boundary."""

import json

import pytest


@pytest.fixture
def jp_server_config(jp_server_config, nvml_recording):
    jp_server_config["ColabGuard"]["nvml_recording"] = nvml_recording("a100x2")
    return jp_server_config


async def test_gpus_and_their_processes(jp_fetch):
    body = json.loads((await jp_fetch("colab-guard", "v1", "resources")).body)
    assert body["accelerator_status"] == "ok" and body["accelerator_error"] is None
    assert [(a["kind"], a["index"], a["name"]) for a in body["accelerators"]] == [
        ("gpu", 0, "NVIDIA A100-SXM4-40GB"),
        ("gpu", 1, "NVIDIA A100-SXM4-40GB"),
    ]
    gpu = body["accelerators"][0]
    assert gpu["memory_total"] == 40960 << 20 and gpu["memory_used"] == 30114 << 20
    assert gpu["utilization_gpu"] == 2 and gpu["power_limit_w"] == 400.0
    assert [p["pid"] for p in gpu["processes"]] == [4242, 4343]
    assert body["gpu_driver_version"] == "550.54.15"
