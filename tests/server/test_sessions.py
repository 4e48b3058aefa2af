"""GET /colab-guard/v1/sessions and /history on a real server with real kernels and real culling."""

import asyncio
import json
import os
import time

import psutil
import pytest
from kernel_helpers import start_notebook_kernel
from tornado.httpclient import HTTPClientError


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
    jp_server_config["ColabGuard"].update(snapshot_dir=str(tmp_path / "snapshots"), usage_log_path=str(tmp_path / "usage.jsonl"))
    # the enforcement test counts snapshots; background snapshots have tests of their own
    jp_server_config["ColabGuard"]["background_snapshots"] = False
    return jp_server_config


async def sessions(jp_fetch) -> dict:
    return json.loads((await jp_fetch("colab-guard", "v1", "sessions")).body)


async def test_kernels_with_their_notebook_process_and_memory(jp_fetch, jp_serverapp):
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "work/train.ipynb")
    try:
        await kernel.run("import numpy as np; block = np.ones(50_000_000)")  # 400 MB in the kernel
        # the sampler measures kernel process trees off the event loop, every few seconds
        for _ in range(40):
            body = await sessions(jp_fetch)
            (k,) = body["kernels"]
            if (k["rss"] or 0) > 400_000_000:
                break
            await asyncio.sleep(0.25)
        pid = jp_serverapp.kernel_manager.get_kernel(kernel.id).provisioner.process.pid
        assert k["id"] == kernel.id and k["name"] == "python3" and k["path"] == "work/train.ipynb"
        assert k["pid"] == pid and k["execution_state"] in ("idle", "busy")
        assert abs(k["rss"] - psutil.Process(pid).memory_info().rss) < 64 << 20 and k["rss"] > 400_000_000
        assert k["gpu_memory"] is None  # no GPU here
        # the OOM killer's badness of the kernel: 400 MB of this machine's memory counts in it
        with open(f"/proc/{pid}/oom_score") as f:
            assert k["oom_score"] > 0 and abs(k["oom_score"] - int(f.read())) <= 5, k
        assert k["idle_seconds"] >= 0 and k["cull_at"] is None and k["seconds_to_cull"] is None
        policy = body["policy"]
        assert policy["cull_idle_timeout"] == {
            "value": None,
            "source": "MappingKernelManager.cull_idle_timeout",
            "unit": "seconds",
        }
        assert policy["idle_timeout"]["source"] == "ColabGuard.idle_timeout"
        assert body["server"]["started"] and body["server"]["seconds_to_shutdown"] is None
        assert body["cost"] is None  # no rate configured: no invented figure
    finally:
        kernel.stop()


async def test_history_is_compact_and_validated(jp_fetch):
    await asyncio.sleep(0.6)
    body = json.loads((await jp_fetch("colab-guard", "v1", "history", params={"seconds": "0.5"})).body)
    assert body["interval"] == 0.1
    assert 3 <= len(body["t"]) <= 7 and len(body["memory_working_set"]) == len(body["t"])
    assert body["t"] == sorted(body["t"]) and body["memory_limit"] > 0
    assert body["gpu_utilization"] == [] and body["gpu_memory_used"] == []
    for bad in ["abc", "-1", "0", "1e9", "nan"]:
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("colab-guard", "v1", "history", params={"seconds": bad})
        assert err.value.code == 400 and "seconds must" in json.loads(err.value.response.body)["message"]


async def test_history_answers_not_modified_until_the_next_sample(jp_fetch, jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
    app.sampler.stop()  # no new sample while the client asks again
    first = await jp_fetch("colab-guard", "v1", "history", params={"seconds": "60"})
    tag = first.headers["Etag"]
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("colab-guard", "v1", "history", params={"seconds": "60"}, headers={"If-None-Match": tag})
    assert err.value.code == 304
    # another window is another answer; a new sample makes a new one
    other = await jp_fetch("colab-guard", "v1", "history", params={"seconds": "30"})
    assert other.headers["Etag"] != tag
    app.sampler.history.add(time.time() + 1, 1, 2, [])
    again = await jp_fetch("colab-guard", "v1", "history", params={"seconds": "60"}, headers={"If-None-Match": tag})
    assert again.code == 200 and again.headers["Etag"] != tag and json.loads(again.body)["memory_working_set"][-1] == 1


async def test_usage_log_is_written(jp_fetch, tmp_path, jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
    app.sampler.usage_log.interval = 0.1
    await asyncio.sleep(0.8)
    lines = (tmp_path / "usage.jsonl").read_text().splitlines()
    assert len(lines) >= 3
    record = json.loads(lines[-1])
    assert record["limit"] > 0 and record["working_set"] > 0 and "kernels" in record


class TestCulling:
    """jupyter_server's own culler with short timeouts: the countdown must predict it."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        jp_server_config["MappingKernelManager"] = {"cull_idle_timeout": 4, "cull_interval": 1}
        return jp_server_config

    async def test_kernel_alive_while_countdown_runs_and_gone_when_predicted(self, jp_fetch, jp_serverapp):
        kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "cull.ipynb")
        kernel.stop()  # no client: nothing keeps it active
        await asyncio.sleep(0.5)
        body = await sessions(jp_fetch)
        (k,) = body["kernels"]
        assert k["cull_reason"] == "idle-culling" and 0 < k["seconds_to_cull"] <= 5.5
        predicted = time.time() + k["seconds_to_cull"]
        gone_at = None
        while time.time() < predicted + 3:
            alive = kernel.id in jp_serverapp.kernel_manager
            if not alive:
                gone_at = time.time()
                break
            body = await sessions(jp_fetch)  # polling colab-guard must not reset the countdown
            ks = [x for x in body["kernels"] if x["id"] == kernel.id]
            if ks and ks[0]["seconds_to_cull"] > 0.5:
                assert time.time() < predicted
            await asyncio.sleep(0.2)
        assert gone_at is not None, "the kernel was not culled"
        # culled within the predicted time plus one cull interval, not before the countdown ran out
        assert predicted - 0.6 <= gone_at <= predicted + 1.0 + 0.5


class TestExternalLimits:
    """Limits enforced outside this server, mirrored by the admin, and colab-guard's enforcement."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        jp_server_config["ColabGuard"].update(idle_timeout=3, max_lifetime=7200, enforce=True)
        return jp_server_config

    async def test_idle_timeout_snapshots_then_shuts_down(self, jp_fetch, jp_serverapp):
        kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "limits.ipynb")
        await kernel.run("precious = list(range(10))")
        kernel.stop()
        body = await sessions(jp_fetch)
        assert body["server"]["seconds_to_lifetime_end"] > 7100
        (k,) = body["kernels"]
        assert k["cull_reason"] == "idle-timeout" and k["seconds_to_cull"] <= 3
        for _ in range(100):
            if kernel.id not in jp_serverapp.kernel_manager:
                break
            await asyncio.sleep(0.2)
        assert kernel.id not in jp_serverapp.kernel_manager, "colab-guard did not enforce the idle timeout"
        (snap,) = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]
        assert snap["reason"] == "requested before shutdown" and "precious" in snap["variables"]


class TestCost:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, nvml_recording, tmp_path):
        # the usage log of earlier sessions of this machine: 20 h of A100s in the last week, older lines
        now = time.time()
        lines = [
            {"t": now - 3600 - 60 * i, "interval": 60, "host": "box", "accelerators": ["NVIDIA A100-SXM4-40GB"]}
            for i in range(1200)
        ]
        lines += [
            {"t": now - 9 * 86400 - 60 * i, "interval": 60, "host": "box", "accelerators": ["NVIDIA A100-SXM4-40GB"]}
            for i in range(600)
        ]
        (tmp_path / "usage.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
        jp_server_config["ColabGuard"].update(
            nvml_recording=nvml_recording("a100x2"),
            rates={"a100": {"rate": 3.6, "unit": "USD"}},
            low_utilization_minutes=0.005,
            weekly_accelerator_hours=24,
        )
        return jp_server_config

    async def test_accelerator_hours_of_the_week_against_the_budget(self, jp_fetch):
        body = await sessions(jp_fetch)
        hours = body["accelerator_hours"]
        # the 20 h logged this week, and this server's own first minute; the older week left out
        assert hours["hours"] == pytest.approx(20 + 1 / 60, abs=0.01) and hours["budget"] == 24
        assert hours["by_accelerator"] == {"NVIDIA A100-SXM4-40GB": hours["hours"]}
        (warning,) = [w for w in body["warnings"] if w["kind"] == "accelerator-hours"]
        assert "20.0 of your 24 accelerator hours used in the last 7 days" in warning["message"]
        assert body["policy"]["weekly_accelerator_hours"]["value"] == 24

    async def test_cost_and_low_utilization_advice(self, jp_fetch):
        await asyncio.sleep(0.6)
        body = await sessions(jp_fetch)
        cost = body["cost"]
        assert cost["pattern"] == "a100" and cost["rate"] == 3.6 and cost["unit"] == "USD"
        assert cost["hours"] > 0 and cost["accrued"] == pytest.approx(3.6 * cost["hours"], rel=0.01, abs=1e-4)
        # the recorded A100 sits at 2 % utilisation holding 30 GB: all of it is low-utilisation time
        assert cost["accrued_low_utilization"] == pytest.approx(cost["accrued"], rel=0.05, abs=1e-4)
        (warning,) = [w for w in body["warnings"] if w["kind"] == "low-utilization"]
        assert "under 10% utilisation" in warning["message"]
        # no kernel runs on this server while the recorded processes hold the GPU: the one cause named, with its figures
        assert warning["cause"] == "held-elsewhere" and "No kernel of this server is running" in warning["message"]
        assert "input pipeline" not in warning["message"]
        evidence = warning["evidence"]
        assert evidence["gpu_utilization"] == 2 and evidence["gpu_memory_used"] == 30114 << 20


class TestHousekeepingThroughShutdowns:
    """The server's periodic job outlives kernels that are shut down, and still enforces afterwards."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        jp_server_config["ColabGuard"].update(idle_timeout=4, max_lifetime=7200, enforce=True)
        return jp_server_config

    async def test_enforcement_and_state_go_on_after_a_kernel_is_shut_down(self, jp_fetch, jp_serverapp, caplog):
        from colab_guard.contract.server_state import server_state_path

        # Given two notebook kernels; the user closes the first (DELETE, as JupyterLab does)
        closed = await start_notebook_kernel(jp_fetch, jp_serverapp, "closed.ipynb")
        kept = await start_notebook_kernel(jp_fetch, jp_serverapp, "kept.ipynb")
        closed.stop()
        await jp_fetch("api", "kernels", closed.id, method="DELETE")
        await kept.run("precious = list(range(10))")
        kept.stop()
        # When the housekeeping ticks on for a while
        (extension,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
        state_path = server_state_path(extension.snapshot_dir, extension.server_id)
        for _ in range(100):
            if kept.id not in jp_serverapp.kernel_manager:
                break
            await asyncio.sleep(0.2)
        # Then the idle limit is still enforced on the other kernel, snapshot first
        assert kept.id not in jp_serverapp.kernel_manager, "the housekeeping stopped after the first shutdown"
        (snap,) = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]
        assert "precious" in snap["variables"]
        # And the state file kernels read is still rewritten, with no error logged by any step
        before = os.stat(state_path).st_mtime
        await asyncio.sleep(2.5)
        assert os.stat(state_path).st_mtime > before
        assert not [r for r in caplog.records if "housekeeping" in r.getMessage() or "Exception in callback" in r.getMessage()]
