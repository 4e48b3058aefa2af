"""GET /colab-guard/v1/resources on a real jupyter_server with the extension loaded."""

import asyncio
import json
import os

import pytest
from tornado.httpclient import HTTPClientError

from colab_guard.readers.memory import MemoryReader, read_meminfo

URL = ("colab-guard", "v1", "resources")


async def get_resources(jp_fetch):
    response = await jp_fetch(*URL)
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


async def test_host_memory_matches_proc_meminfo_and_cgroup(jp_fetch):
    # When the resources are fetched
    body = await get_resources(jp_fetch)
    # Then the host figures are this machine's own
    memory = body["host"]["memory"]
    meminfo = read_meminfo()
    assert memory["total"] == meminfo["MemTotal"]
    assert abs(memory["available"] - meminfo["MemAvailable"]) < 512 << 20
    assert memory["used"] == memory["total"] - memory["available"]
    # And the limit is what the real cgroup says, with its source
    expected = MemoryReader().read()
    assert (memory["limit"], memory["limit_source"]) == (expected.limit, expected.limit_source)
    assert memory["limit_source"] in ("cgroup-v2", "cgroup-v1", "env", "config", "host")
    assert 0 < memory["working_set"] <= memory["usage"]
    assert memory["percent"] == pytest.approx(100 * memory["working_set"] / memory["limit"], abs=0.01)


async def test_cpu_and_disks(jp_fetch, jp_root_dir):
    body = await get_resources(jp_fetch)
    cpu = body["host"]["cpu"]
    assert cpu["count"] == os.cpu_count()
    assert 0.0 <= cpu["percent"] <= 100.0
    disk = body["host"]["disk"]
    assert disk["root_dir"]["path"] == str(jp_root_dir)
    statvfs = os.statvfs(jp_root_dir)
    assert disk["root_dir"]["total"] == statvfs.f_blocks * statvfs.f_frsize
    assert disk["root_dir"]["used"] + disk["root_dir"]["free"] <= disk["root_dir"]["total"]
    assert set(disk) == {"root_dir", "snapshot_dir"}


async def test_no_driver_here_is_stated_and_the_rest_still_comes_back(jp_fetch):
    body = await get_resources(jp_fetch)
    assert body["accelerator_status"] == "no-driver"
    assert "no NVIDIA driver" in body["accelerator_error"]
    assert body["accelerators"] == []
    assert body["host"]["memory"]["total"] > 0
    assert body["environment"]["kind"] in ("local", "colab", "jupyterhub")


@pytest.mark.parametrize("token", ["", "token not-the-right-one"])
async def test_without_a_valid_token_is_403_and_no_data(jp_fetch, token):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(*URL, headers={"Authorization": token}, follow_redirects=False)
    assert err.value.code == 403
    assert b"MemTotal" not in (err.value.response.body or b"")
    assert b"working_set" not in (err.value.response.body or b"")


async def test_polling_does_not_count_as_activity(jp_fetch):
    # Given the server's last activity
    before = json.loads((await jp_fetch("api", "status")).body)["last_activity"]
    # When a client polls colab-guard every second
    for _ in range(3):
        await asyncio.sleep(1.0)
        await get_resources(jp_fetch)
    # Then the server does not consider itself active
    after = json.loads((await jp_fetch("api", "status")).body)["last_activity"]
    assert after == before


async def test_serves_the_latest_sample_from_the_background_sampler(jp_fetch, jp_serverapp):
    sampler = jp_serverapp.extension_manager.extension_apps["colab_guard"]
    (app,) = sampler
    taken = app.sampler.samples_taken
    first = await get_resources(jp_fetch)
    await asyncio.sleep(0.5)
    second = await get_resources(jp_fetch)
    # the sampler keeps sampling by itself (0.1 s here), requests only read
    assert app.sampler.samples_taken >= taken + 3
    assert second["timestamp"] > first["timestamp"]


async def test_sampler_stops_cleanly_with_the_server(jp_fetch, jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
    thread = app.sampler._thread
    assert thread.is_alive()
    # When the server stops its extensions, as on shutdown
    await jp_serverapp.extension_manager.stop_all_extensions()
    # Then the sampler thread has ended
    assert not thread.is_alive() and not app.sampler.running
