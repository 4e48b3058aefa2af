"""Colab's local runtime: CORS and Private Network Access for Colab's origin, Colab's own resource
endpoints served from the sampler, and the real `colab-guard local-runtime` command."""

import asyncio
import contextlib
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import psutil
import pytest
from helpers import cmdline, fetch_without_token
from live_server import LiveServer, free_port

from colab_guard.readers.memory import MemoryReader
from colab_guard.server.colab_runtime import COLAB_ORIGIN, ROUTES, colab_resources, origin_allowed, routes

OTHER_ORIGIN = "https://attacker.example"
RESOURCES = ("colab-guard", "v1", "resources")
COLAB_RESOURCES = ("api", "colab", "resources")
BUILD_INFO = ("api", "colab", "build-info")
XSSI = b")]}'\n"
# Where these tests run inside Colab's own runtime, Colab's extension (not this server) serves /api/colab/*
colab_routes = pytest.mark.skipif(not ROUTES, reason="Colab's own runtime: /api/colab/* is left to Colab's extension")


@pytest.fixture
def private_network():
    """ColabGuard.allow_private_network, as `colab-guard local-runtime` sets it (a test may parametrize it)."""
    return True


@pytest.fixture
def jp_server_config(jp_server_config, private_network):
    # The server as `colab-guard local-runtime` configures it for Colab
    jp_server_config["ServerApp"].update(allow_origin=COLAB_ORIGIN, allow_credentials=True)
    jp_server_config["ColabGuard"]["allow_private_network"] = private_network
    return jp_server_config


def preflight_headers(origin: str, **extra) -> dict:
    """What Chrome sends before a public page calls a server on localhost (no token: a preflight has none)."""
    return {
        "Authorization": "",
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
        **extra,
    }


def strip_xssi(body: bytes) -> dict:
    assert body.startswith(XSSI), body[:20]
    return json.loads(body[len(XSSI) :])


# -- CORS and Private Network Access


@pytest.mark.parametrize("route", [RESOURCES, pytest.param(COLAB_RESOURCES, marks=colab_routes), ("api", "kernels")])
async def test_preflight_from_colab_is_granted_with_private_network_access(jp_fetch, route):
    # When Chrome preflights a request from Colab's page to this server on localhost
    response = await jp_fetch(
        *route, method="OPTIONS", headers=preflight_headers(COLAB_ORIGIN, **{"Access-Control-Request-Headers": "authorization"})
    )
    # Then the preflight succeeds for Colab's origin, credentials and the private network included
    assert response.code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Private-Network"] == "true"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"]


async def test_get_from_colab_with_the_token_is_allowed(jp_fetch):
    # When Colab's page fetches the resources with the token
    response = await jp_fetch(*RESOURCES, headers={"Origin": COLAB_ORIGIN})
    # Then the answer may be read by Colab's origin, with credentials
    assert response.code == 200
    assert response.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert json.loads(response.body)["host"]["memory"]["limit"] > 0
    # and a plain request carries no private-network grant
    assert "Access-Control-Allow-Private-Network" not in response.headers


@pytest.mark.parametrize("extra", [{}, {"Access-Control-Request-Headers": "authorization"}])
async def test_preflight_from_another_origin_is_refused(jp_fetch, extra):
    # When another site's page preflights a request to this server on localhost
    response = await jp_fetch(*RESOURCES, method="OPTIONS", headers=preflight_headers(OTHER_ORIGIN, **extra))
    # Then no private network access is granted: Chrome refuses the request
    assert "Access-Control-Allow-Private-Network" not in response.headers
    if not extra:
        # and the answer names only Colab's origin, not the requester's
        assert response.headers.get("Access-Control-Allow-Origin") in (None, COLAB_ORIGIN)


async def test_get_from_another_origin_is_not_readable_there(jp_fetch):
    # When another site's page fetches the resources (even with a token)
    response = await jp_fetch(*RESOURCES, headers={"Origin": OTHER_ORIGIN})
    # Then the answer does not allow that origin to read it
    assert response.headers.get("Access-Control-Allow-Origin") != OTHER_ORIGIN
    assert "Access-Control-Allow-Private-Network" not in response.headers


@pytest.mark.parametrize("private_network", [False])
async def test_without_the_setting_no_private_network_access_is_granted(jp_fetch):
    # Given a server with Colab's origin allowed but ColabGuard.allow_private_network off
    # When Colab's page preflights
    response = await jp_fetch(*RESOURCES, method="OPTIONS", headers=preflight_headers(COLAB_ORIGIN))
    # Then CORS is answered as jupyter_server does, without the private-network grant
    assert response.headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert "Access-Control-Allow-Private-Network" not in response.headers


def test_private_network_access_only_for_origins_the_server_names():
    # allow_origin names one site: that site only
    assert origin_allowed({"allow_origin": COLAB_ORIGIN}, COLAB_ORIGIN)
    assert not origin_allowed({"allow_origin": COLAB_ORIGIN}, OTHER_ORIGIN)
    assert not origin_allowed({"allow_origin": COLAB_ORIGIN}, None)
    # '*' names no site, so it grants nothing (and wins over a pattern, as in jupyter_server)
    assert not origin_allowed({"allow_origin": "*", "allow_origin_pat": re.compile(".*")}, COLAB_ORIGIN)
    # a pattern must match the whole origin
    pattern = {"allow_origin": "", "allow_origin_pat": re.compile(r"https://colab\.research\.google\.com")}
    assert origin_allowed(pattern, COLAB_ORIGIN)
    with pytest.warns(UserWarning, match="prefix"):  # jupyter_server's own warning about such patterns
        assert not origin_allowed(pattern, COLAB_ORIGIN + ".attacker.example")
    # nothing configured: nothing granted
    assert not origin_allowed({}, COLAB_ORIGIN)


# -- /api/colab/resources and /api/colab/build-info


@colab_routes
async def test_colab_resources_from_the_sampler(jp_fetch, jp_root_dir):
    # When Colab's client reads the resources endpoint
    response = await jp_fetch(*COLAB_RESOURCES)
    resources = json.loads((await jp_fetch(*RESOURCES)).body)["host"]["memory"]
    # Then the JSON comes behind the XSSI prefix, as from Colab's own extension
    assert response.code == 200 and response.headers["Content-Type"] == "application/json"
    body = strip_xssi(response.body)
    assert set(body) == {"memory", "disks", "gpus"}
    # And the total is the limit that really applies, the free memory the headroom under it
    memory = body["memory"]
    assert memory["totalBytes"] == resources["limit"] == MemoryReader().read().limit
    assert abs(memory["freeBytes"] - resources["headroom"]) < 256 << 20
    assert 0 < memory["freeBytes"] < memory["totalBytes"]
    assert memory["kernels"] == []
    # And the notebooks' disk is the "kernel" disk, with this filesystem's figures
    kernel_disk = body["disks"][0]["filesystem"]
    statvfs = os.statvfs(jp_root_dir)
    assert kernel_disk["label"] == "kernel" and kernel_disk["totalBytes"] == statvfs.f_blocks * statvfs.f_frsize
    assert 0 < kernel_disk["usedBytes"] < kernel_disk["totalBytes"]
    # And no GPU here
    assert body["gpus"] == []


@colab_routes
async def test_colab_resources_lists_each_kernel_with_its_process_tree_memory(jp_fetch, jp_serverapp):
    # Given a running kernel
    kernel_id = json.loads((await jp_fetch("api", "kernels", method="POST", body="{}")).body)["id"]
    pid = jp_serverapp.kernel_manager.get_kernel(kernel_id).provisioner.process.pid
    # When the resources are read, once the sampler has measured the kernel
    kernels = []
    for _ in range(50):
        kernels = strip_xssi((await jp_fetch(*COLAB_RESOURCES)).body)["memory"]["kernels"]
        if kernels:
            break
        await asyncio.sleep(0.1)
    # Then the kernel is there with the resident memory of its process tree
    (entry,) = kernels
    assert entry["uuid"] == kernel_id
    process = psutil.Process(pid)
    tree = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    assert abs(entry["usedBytes"] - tree) < max(32 << 20, tree // 4)
    # And a kernel that was shut down is not listed any more
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    assert strip_xssi((await jp_fetch(*COLAB_RESOURCES)).body)["memory"]["kernels"] == []


@colab_routes
async def test_build_info_gives_the_release_tag_from_the_environment(jp_fetch, monkeypatch):
    # Given no Colab release (a plain local runtime)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    response = await jp_fetch(*BUILD_INFO)
    assert response.headers["Content-Type"] == "application/json"
    assert strip_xssi(response.body) == {"release_tag": None}
    # When the variable is set, it is read at each request
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261101-060000_RC00")
    assert strip_xssi((await jp_fetch(*BUILD_INFO)).body) == {"release_tag": "release-colab_20261101-060000_RC00"}


@colab_routes
@pytest.mark.parametrize("route", [COLAB_RESOURCES, BUILD_INFO])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_colab_endpoints_refuse_without_token(jp_fetch, route, method):
    # When a request comes without a valid token
    error = await fetch_without_token(jp_fetch, route, method)
    # Then it is refused and nothing is given away
    assert error.code == 403
    assert XSSI not in (error.response.body or b"")


@colab_routes
async def test_colab_endpoints_do_not_count_as_activity(jp_fetch):
    before = json.loads((await jp_fetch("api", "status")).body)["last_activity"]
    for _ in range(2):
        await asyncio.sleep(1.0)
        await jp_fetch(*COLAB_RESOURCES)
        await jp_fetch(*BUILD_INFO)
    assert json.loads((await jp_fetch("api", "status")).body)["last_activity"] == before


def test_not_served_in_colabs_own_runtime():
    # Colab's hosted runtime and its runtime image serve /api/colab/* from Colab's own extension
    assert routes({"COLAB_RELEASE_TAG": "release-colab_20261101-060000_RC00"}) == []
    assert [pattern for pattern, _ in routes({})] == ["/api/colab/resources", "/api/colab/build-info"]


def test_ever_used_stays_true_once_a_gpu_held_memory():
    # Given a GPU seen holding memory, then released
    ever_used = set()
    gpu = {
        "kind": "gpu",
        "index": 0,
        "uuid": "GPU-1",
        "name": "Tesla T4",
        "memory_total": 16 << 30,
        "utilization_gpu": 37,
        "utilization_memory": None,
    }
    busy = {"host": {}, "accelerators": [{**gpu, "memory_used": 3 << 30}]}
    idle = {"host": {}, "accelerators": [{**gpu, "memory_used": 0, "utilization_gpu": 0}]}
    (first,) = colab_resources(busy, {}, ever_used)["gpus"]
    (later,) = colab_resources(idle, {}, ever_used)["gpus"]
    # Then it is still reported as used, with utilisations as fractions and an unknown one left out
    assert first == {
        "name": "Tesla T4",
        "memoryUsedBytes": 3 << 30,
        "memoryTotalBytes": 16 << 30,
        "gpuUtilization": 0.37,
        "everUsed": True,
    }
    assert later["everUsed"] is True and later["memoryUsedBytes"] == 0 and later["gpuUtilization"] == 0.0
    # And a GPU never seen in use is not
    fresh = {"host": {}, "accelerators": [{**gpu, "uuid": "GPU-2", "memory_used": 0}]}
    assert colab_resources(fresh, {}, set())["gpus"][0]["everUsed"] is False


@colab_routes
class TestRecordedGpus:
    """The GPUs of a recorded two-A100 box, replayed at the NVML boundary."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config, nvml_recording):
        jp_server_config["ColabGuard"]["nvml_recording"] = nvml_recording("a100x2")
        return jp_server_config

    async def test_gpus_in_colabs_shape(self, jp_fetch):
        body = strip_xssi((await jp_fetch(*COLAB_RESOURCES)).body)
        assert body["gpus"] == [
            {
                "name": "NVIDIA A100-SXM4-40GB",
                "memoryUsedBytes": 31576817664,
                "memoryTotalBytes": 42949672960,
                "gpuUtilization": 0.02,
                "memoryUtilization": 0.01,
                "everUsed": True,
            },
            {
                "name": "NVIDIA A100-SXM4-40GB",
                "memoryUsedBytes": 438304768,
                "memoryTotalBytes": 42949672960,
                "gpuUtilization": 0.0,
                "memoryUtilization": 0.0,
                "everUsed": True,
            },
        ]


# -- the real `colab-guard local-runtime` command


def command() -> list[str]:
    """The installed console script; the same entry point through Python where scripts are not on PATH."""
    script = shutil.which("colab-guard")
    return [script] if script else [sys.executable, "-m", "colab_guard.server.cli"]


@pytest.fixture
def runtime_env(tmp_path):
    """An isolated Jupyter config, data and runtime dir; config files that set ColabGuard settings."""
    config = tmp_path / "config"
    config.mkdir()
    # the server's config file overrides the extension's own one
    (config / "jupyter_server_config.py").write_text('c.ColabGuard.memory_limit = "3G"\n')
    (config / "jupyter_colab_guard_config.json").write_text(
        json.dumps({"ColabGuard": {"memory_limit": "1G", "keep_snapshots": 5}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLAB_", "JUPYTER_TOKEN", "JPY_"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        COLAB_GUARD_SNAPSHOT_DIR=str(tmp_path / "snapshots"),
    )
    (tmp_path / "notebooks").mkdir()
    return env


class LocalRuntime(LiveServer):
    """`colab-guard local-runtime` in a subprocess: its printed URL, and requests through it."""

    def __init__(self, tmp_path, env, port, *extra):
        argv = [
            *command(),
            "local-runtime",
            "--port",
            str(port),
            "--no-browser",
            f"--ServerApp.root_dir={tmp_path / 'notebooks'}",
            *extra,
        ]
        if os.geteuid() == 0:
            argv.append("--allow-root")
        super().__init__(str(tmp_path), argv=argv, env=env, port=port, stdout=subprocess.PIPE, host="localhost")
        self.kernel_pids: list[int] = []

    def url(self, timeout: float = 60) -> str:
        """The URL the command prints for Colab's dialog."""
        deadline = time.monotonic() + timeout
        printed = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                printed += chunk
                found = re.search(rb"(http://\S+\?token=\S+)", printed)
                if found:
                    return found.group(1).decode()
                if not chunk and self.process.poll() is not None:
                    break
        with open(self.log_path, errors="replace") as f:
            raise AssertionError(f"no URL printed (exit {self.process.poll()}):\n{f.read()[-3000:]}")

    def stop(self) -> None:
        super().stop()
        for pid in self.kernel_pids:  # kernels this test started, should the server have left one behind
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()


@pytest.fixture
def local_runtime(tmp_path, runtime_env):
    started = []

    def start(*extra, env=None):
        runtime = LocalRuntime(tmp_path, env or runtime_env, free_port(), *extra)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.stop()


def test_local_runtime_command_serves_colab_with_the_watcher_in_its_kernels(local_runtime, runtime_env):
    # Given `colab-guard local-runtime --port N --no-browser` started
    runtime = local_runtime()
    # When its printed URL is parsed as Colab's dialog does
    url = urllib.parse.urlsplit(runtime.url())
    token = urllib.parse.parse_qs(url.query)["token"][0]
    assert (url.scheme, url.hostname, url.port, url.path) == ("http", "localhost", runtime.port, "/") and len(token) >= 32

    # Then Colab's build-info and colab-guard's resources answer with the token, not without
    status, body, headers = runtime.request("GET", "api/colab/build-info", token=token)
    assert status == 200 and strip_xssi(body) == {"release_tag": None}
    status, body, headers = runtime.request("GET", "colab-guard/v1/resources", headers={"Origin": COLAB_ORIGIN}, token=token)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == COLAB_ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true"
    memory = json.loads(body)["host"]["memory"]
    # the server's config file won over the extension's own (3G, not 1G), unless a lower limit applies
    assert memory["limit"] == min(3 << 30, MemoryReader().read().limit)
    assert runtime.request("GET", "colab-guard/v1/resources", token=None).status == 403
    assert runtime.request("GET", "api/colab/resources", token=None).status == 403
    assert strip_xssi(runtime.request("GET", "api/colab/resources", token=token).body)["memory"]["totalBytes"] == memory["limit"]

    # And Chrome's private-network preflight from Colab is granted, from another site not
    status, _, headers = runtime.request("OPTIONS", "api/kernels", headers=preflight_headers(COLAB_ORIGIN), token=None)
    assert status in (200, 204) and headers["Access-Control-Allow-Private-Network"] == "true"
    status, _, headers = runtime.request("OPTIONS", "api/kernels", headers=preflight_headers(OTHER_ORIGIN), token=None)
    assert headers.get("Access-Control-Allow-Private-Network") is None

    # And a kernel started there loads the watcher, with the settings from the config files
    status, body, _ = runtime.request("POST", "api/kernels", b"{}", {"Content-Type": "application/json"}, token=token)
    assert status == 201, body
    kernel_id = json.loads(body)["id"]
    server = psutil.Process(runtime.process.pid)
    (kernel,) = [p for p in server.children(recursive=True) if any(kernel_id in part for part in cmdline(p))]
    runtime.kernel_pids.append(kernel.pid)
    assert "--ext=colab_guard" in kernel.cmdline()
    assert kernel.environ()["COLAB_GUARD_KEEP_SNAPSHOTS"] == "5" and kernel.environ()["COLAB_GUARD_MEMORY_LIMIT"] == str(3 << 30)

    # And `colab-guard config` says where each of those settings came from
    shown = subprocess.run([*command(), "config"], env=runtime_env, capture_output=True, text=True, check=True).stdout
    config_dir = runtime_env["JUPYTER_CONFIG_DIR"]
    assert re.search(
        rf"ColabGuard\.memory_limit +=.*{3 << 30} +# {re.escape(config_dir)}/jupyter_server_config\.py$", shown, re.M
    ), shown
    assert re.search(
        rf"ColabGuard\.keep_snapshots +=.*5 +# {re.escape(config_dir)}/jupyter_colab_guard_config\.json$", shown, re.M
    ), shown
    assert re.search(r"ColabGuard\.warn_percent +=.*75\.0 +# default$", shown, re.M), shown
    assert re.search(r"ColabGuard\.allow_private_network +=.*False +# default$", shown, re.M), shown


def test_config_command_line_wins_and_typos_are_refused(runtime_env):
    shown = subprocess.run(
        [*command(), "config", "--ColabGuard.memory_limit=2G"], env=runtime_env, capture_output=True, text=True, check=True
    ).stdout
    assert re.search(rf"ColabGuard\.memory_limit +=.*{2 << 30} +# command line$", shown, re.M), shown
    typo = subprocess.run([*command(), "config", "--ColabGuard.memory_limt=2G"], env=runtime_env, capture_output=True, text=True)
    assert typo.returncode == 2 and "no ColabGuard setting named memory_limt" in typo.stderr


def test_in_colabs_own_runtime_the_colab_endpoints_are_left_to_colab(local_runtime, runtime_env):
    # Given the server started where Colab's variables are set (its hosted runtime, its image)
    runtime = local_runtime(env={**runtime_env, "COLAB_RELEASE_TAG": "release-colab_20261101-060000_RC00"})
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(runtime.url()).query)["token"][0]
    # Then colab-guard does not serve Colab's endpoints, and still serves its own
    assert runtime.request("GET", "api/colab/resources", token=token).status == 404
    assert runtime.request("GET", "api/colab/build-info", token=token).status == 404
    status, body, _ = runtime.request("GET", "colab-guard/v1/resources", token=token)
    assert status == 200 and json.loads(body)["environment"]["kind"] == "colab"


def test_a_port_in_use_is_an_error_not_another_port(tmp_path, runtime_env):
    # Given the port is taken
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When the command is started on it
        runtime = LocalRuntime(tmp_path, runtime_env, port)
        try:
            code = runtime.process.wait(60)
        finally:
            runtime.stop()
    # Then it stops with an error instead of moving to a port Colab's dialog does not name
    assert code != 0
    with open(runtime.log_path) as f:
        assert str(port) in f.read()
