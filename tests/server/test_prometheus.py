"""colab-guard's gauges on jupyter_server's /metrics, scraped from a real server."""

import asyncio
import json
import os
import signal

import pytest
from kernel_helpers import start_notebook_kernel
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import HTTPClientError

from colab_guard.server import prometheus
from colab_guard.snapshot import take_snapshot


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    jp_server_config["ColabGuard"]["snapshot_dir"] = str(tmp_path / "snapshots")
    return jp_server_config


async def scrape(jp_fetch) -> dict[str, list]:
    """Every colab_guard sample of /metrics: name -> [(labels, value)]."""
    response = await jp_fetch("metrics")
    assert response.code == 200 and response.headers["Content-Type"].startswith("text/plain")
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name.startswith("colab_guard_"):
                out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def value(metrics: dict, name: str, **labels) -> float:
    (found,) = [v for sample_labels, v in metrics[name] if all(sample_labels.get(k) == w for k, w in labels.items())]
    return found


def the_app(serverapp):
    (app,) = serverapp.extension_manager.extension_apps["colab_guard"]
    return app


async def test_memory_gauges_match_the_resources_endpoint(jp_fetch):
    # When /metrics is scraped
    metrics = await scrape(jp_fetch)
    memory = json.loads((await jp_fetch("colab-guard", "v1", "resources")).body)["host"]["memory"]
    # Then the limit is the one the resources endpoint reports, labelled with its source
    assert metrics["colab_guard_memory_limit_bytes"] == [({"source": memory["limit_source"]}, memory["limit"])]
    # And the working set and headroom come from one sample: they add up to the limit
    working_set = value(metrics, "colab_guard_memory_working_set_bytes")
    headroom = value(metrics, "colab_guard_memory_headroom_bytes")
    assert working_set > 0 and abs(working_set - memory["working_set"]) < 256 << 20
    assert working_set + headroom == memory["limit"]
    # And no GPU here: no GPU samples, no countdown without culling, no OOM kill
    assert "colab_guard_gpu_utilization_percent" not in metrics
    assert "colab_guard_kernel_seconds_to_cull" not in metrics
    assert value(metrics, "colab_guard_kernel_oom_kills") == 0


async def test_metrics_need_the_token(jp_fetch):
    # jupyter_server's default authenticate_prometheus: a scrape needs the token like every other request
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("metrics", headers={"Authorization": ""})
    assert err.value.code == 403 and b"colab_guard" not in (err.value.response.body or b"")


class TestRecordedGpus:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, nvml_recording):
        jp_server_config["ColabGuard"]["nvml_recording"] = nvml_recording("a100x2")
        return jp_server_config

    async def test_gpu_gauges_per_gpu(self, jp_fetch):
        # Given a recorded two-A100 box, when /metrics is scraped
        metrics = await scrape(jp_fetch)
        name = "NVIDIA A100-SXM4-40GB"
        # Then each GPU has its utilisation and memory, labelled with its index and name
        assert sorted(metrics["colab_guard_gpu_utilization_percent"], key=lambda s: s[0]["gpu"]) == [
            ({"gpu": "0", "name": name}, 2.0),
            ({"gpu": "1", "name": name}, 0.0),
        ]
        assert value(metrics, "colab_guard_gpu_memory_used_bytes", gpu="0") == 31576817664
        assert value(metrics, "colab_guard_gpu_memory_used_bytes", gpu="1") == 438304768
        assert value(metrics, "colab_guard_gpu_memory_total_bytes", gpu="1") == 42949672960


async def test_snapshot_count_is_cached_between_scrapes(jp_fetch, tmp_path, monkeypatch):
    snapshots = str(tmp_path / "snapshots")
    # Given one snapshot on disk
    take_snapshot({"x": list(range(10))}, snapshots, "a.ipynb")
    assert value(await scrape(jp_fetch), "colab_guard_snapshots") == 1
    # When another notebook is snapshotted right after
    take_snapshot({"y": "text"}, snapshots, "b.ipynb")
    # Then a scrape within SNAPSHOT_CACHE_SECONDS does not list the disk again
    assert value(await scrape(jp_fetch), "colab_guard_snapshots") == 1
    # And once the cache has expired, the new snapshot is counted
    monkeypatch.setattr(prometheus, "SNAPSHOT_CACHE_SECONDS", 0.0)
    assert value(await scrape(jp_fetch), "colab_guard_snapshots") == 2


async def test_registered_once_per_process(jp_fetch, jp_serverapp):
    # Given servers started one after another in this process (every test here starts one)
    collector = prometheus.register(the_app(jp_serverapp))
    # When the extension registers again
    again = prometheus.register(the_app(jp_serverapp))
    # Then one collector is in the registry, and each metric appears once
    assert again is collector
    body = (await jp_fetch("metrics")).body.decode()
    assert body.count("# TYPE colab_guard_memory_limit_bytes gauge") == 1


class TestKernels:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
        jp_server_config["MappingKernelManager"] = {"cull_idle_timeout": 600, "cull_interval": 60}
        return jp_server_config

    async def test_seconds_to_cull_per_kernel(self, jp_fetch, jp_serverapp):
        # Given a notebook's kernel on a server that culls idle kernels after 10 minutes
        kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "work/cull.ipynb")
        try:
            # When /metrics is scraped
            metrics = await scrape(jp_fetch)
            sessions = json.loads((await jp_fetch("colab-guard", "v1", "sessions")).body)
            # Then the kernel's countdown is there, labelled with its id, name and notebook, as /sessions says
            ((labels, seconds),) = metrics["colab_guard_kernel_seconds_to_cull"]
            assert labels == {"kernel_id": kernel.id, "kernel_name": "python3", "path": "work/cull.ipynb"}
            (expected,) = [k["seconds_to_cull"] for k in sessions["kernels"] if k["id"] == kernel.id]
            assert 540 < seconds <= 660 and abs(seconds - expected) < 5
        finally:
            kernel.stop()


class TestOomKill:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        # an admin's limit far below what this container uses: the watcher sees it past the warning level
        jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
        jp_server_config["ColabGuard"]["memory_limit"] = "64M"
        return jp_server_config

    async def test_a_kernel_killed_near_its_limit_counts_as_an_oom_kill(self, jp_fetch, jp_serverapp, tmp_path):
        # Given a notebook kernel whose watcher has written its heartbeat near (past) the limit
        app = the_app(jp_serverapp)
        kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "oom.ipynb")
        pid = jp_serverapp.kernel_manager.get_kernel(kernel.id).provisioner.process.pid
        for _ in range(100):
            if list((tmp_path / "snapshots").glob("*/*/heartbeat.json")):  # <user folder>/<notebook folder>/
                break
            await asyncio.sleep(0.1)
        assert value(await scrape(jp_fetch), "colab_guard_kernel_oom_kills") == 0
        assert value(await scrape(jp_fetch), "colab_guard_kernels_oom_killed_total") == 0
        # When it is SIGKILLed, as the OOM killer does
        kernel.stop()
        os.kill(pid, signal.SIGKILL)
        for _ in range(150):
            if kernel.id in app.kernels.postmortems:
                break
            await asyncio.sleep(0.1)
        # Then its post-mortem blames the OOM killer, and the gauge counts it
        assert app.kernels.postmortems[kernel.id]["cause"] == "oom-killer"
        metrics = await scrape(jp_fetch)
        assert value(metrics, "colab_guard_kernel_oom_kills") == 1
        # And so does the counter a fleet sums per day
        assert value(metrics, "colab_guard_kernels_oom_killed_total") == 1


class TestUnderJupyterHub:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, nvml_recording, monkeypatch):
        # what JupyterHub's spawner puts in a single-user server's environment (a named server here)
        monkeypatch.setenv("JUPYTERHUB_USER", "ada@example.org")
        monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "gpu")
        jp_server_config["ColabGuard"]["nvml_recording"] = nvml_recording("a100x2")
        return jp_server_config

    async def test_every_gauge_carries_the_hub_user_and_server_name(self, jp_fetch):
        # When /metrics is scraped
        metrics = await scrape(jp_fetch)
        # Then every colab-guard sample, GPUs included, is labelled with the hub user and server name
        assert "colab_guard_gpu_memory_used_bytes" in metrics and "colab_guard_memory_headroom_bytes" in metrics
        for name, samples in metrics.items():
            for labels, _ in samples:
                assert labels["hub_user"] == "ada@example.org" and labels["hub_server"] == "gpu", (name, labels)
        # And the info metric says the same, to join jupyter_server's own metrics with
        ((labels, one),) = metrics["colab_guard_server_info"]
        assert one == 1 and labels["environment"] == "jupyterhub"
        # And the metrics' own labels are still there
        assert value(metrics, "colab_guard_gpu_memory_used_bytes", gpu="1") == 438304768


class TestDefaultHubServer:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, monkeypatch):
        # a JupyterHub user's default server: JupyterHub names it ""
        monkeypatch.setenv("JUPYTERHUB_USER", "ada")
        monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "")
        return jp_server_config

    async def test_the_default_server_has_no_server_name_label(self, jp_fetch):
        # When /metrics is scraped
        metrics = await scrape(jp_fetch)
        # Then the user is there, and no empty server name (Prometheus treats an empty label as none)
        assert metrics["colab_guard_memory_headroom_bytes"][0][0] == {"hub_user": "ada"}
