"""The hub's own clock: a real JupyterHub, configurable-http-proxy and jupyterhub-idle-culler.

The culler runs as the hub's service with a 20 s timeout, checking every 5 s; the hub polls its
proxy's activity every 3 s and the server reports its own every 3 s (short, so the tests take
seconds, not hours). colab-guard is told the culler's settings as an admin would. Its sessions are
read on the server's own port (a client there is not counted by the hub's proxy) unless a test
means a browser tab, which goes through the proxy.
"""

import asyncio
import json
import os
import sys
import threading
import time

import httpx
import pytest
from hub_helpers import start_hub, stop_hub
from live_server import free_port

from colab_guard.contract.manifests import list_snapshots
from colab_guard.contract.times import epoch

pytestmark = pytest.mark.jupyterhub

TIMEOUT, EVERY = 20, 5


def culler_config(port: int) -> str:
    return f"""
c.JupyterHub.last_activity_interval = 3
c.Spawner.port = {port}
c.Spawner.environment = {{"JUPYTERHUB_ACTIVITY_INTERVAL": "3"}}
# (an option given twice becomes a list that traitlets cannot load: the common idle_timeout goes)
c.Spawner.args = [a for a in c.Spawner.args if not a.startswith("--ColabGuard.idle_timeout=")] + [
    "--ColabGuard.idle_timeout={TIMEOUT}",
    "--ColabGuard.idle_check_interval={EVERY}",
    # kernel websockets pinged every 5 s instead of 30 s, so a connection outlives the 20 s timeout
    '--ServerApp.tornado_settings={{"ws_ping_interval": 5000}}',
]
c.JupyterHub.services.append({{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout={TIMEOUT}", "--cull-every={EVERY}"],
}})
c.JupyterHub.load_roles += [
    {{"name": "idle-culler", "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
      "services": ["idle-culler"]}},
    # what the README asks of an admin: a server may read its own model (its own last_activity)
    {{"name": "server", "scopes": ["users:activity!user", "access:servers!server", "read:servers!server"]}},
]
"""


@pytest.fixture
def hub(tmp_path):
    pytest.importorskip("jupyterhub_idle_culler", reason="jupyterhub-idle-culler is not installed")
    port = free_port()
    hub = start_hub(tmp_path, culler_config(port))
    hub.server_port = port
    yield hub
    stop_hub(hub)


@pytest.fixture
def alice(hub):
    alice = Alice(hub)
    yield alice
    alice.direct.close()


class Alice:
    """Alice's server, read directly (not counted by the hub) or through the proxy (a browser tab)."""

    def __init__(self, hub):
        self.hub = hub
        hub.start_server("alice")
        self.token = hub.token_for("alice")
        self.direct = httpx.Client(
            base_url=f"http://127.0.0.1:{hub.server_port}", headers={"Authorization": f"token {self.token}"}, timeout=10
        )

    def sessions(self, through_proxy: bool = False) -> dict:
        path = "/user/alice/colab-guard/v1/sessions"
        response = self.hub.api("GET", path, token=self.token) if through_proxy else self.direct.get(path)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        return response.json()

    def running(self) -> bool:
        """Whether the server runs and nobody is stopping it (the culler's request starts the stop)."""
        server = self.hub.api("GET", "/hub/api/users/alice").json()["servers"].get("")
        return server is not None and server.get("pending") != "stop"

    def watch_until_culled(self, seconds: float, poll=None) -> tuple[float | None, list[dict]]:
        """Read the sessions twice a second until the hub culls the server; (when, the readings)."""
        readings: list[dict] = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            if poll is not None:
                poll()
            if not self.running():
                return time.time(), readings
            try:
                readings.append(self.sessions())
            except (httpx.HTTPError, AssertionError):
                pass  # the culler is stopping it now
            time.sleep(0.5)
        return None, readings


def assert_inside_window(culled: float, server: dict) -> None:
    """The real cull happened inside the window colab-guard predicted, no wider than one culler check."""
    start, end = epoch(server["hub"]["cull_from"]), epoch(server["hub"]["cull_by"])
    print(f"cull at {culled - start:+.1f} s from the window's start, window {end - start:.0f} s")  # the closing note's figure
    assert end - start <= EVERY + 0.01, server["hub"]
    assert start - 1.5 <= culled <= end + 1.5, (culled - start, end - start, server["hub"])


def test_nothing_reaches_the_server_the_real_cull_is_inside_the_predicted_window(hub, alice):
    # Given alice's server that nobody uses
    # When the hub's culler ends it
    culled, readings = alice.watch_until_culled(TIMEOUT + EVERY + 20)
    assert culled is not None, f"not culled:\n{hub.logs()}"
    # Then colab-guard counted down on the hub's own clock (this server's activity as the hub has it)
    answered = [r["server"] for r in readings if r["server"]["hub"]["answered"]]
    assert answered, readings[-1:]
    last = answered[-1]
    assert last["hub"]["basis"] == "server" and last["hub"]["kept_alive_by"] == [], last["hub"]
    assert "Nothing keeps this server running" in last["hub"]["message"], last["hub"]
    # and the real cull fell inside the window it predicted
    assert_inside_window(culled, last)
    assert last["idle_disconnect_at"] == last["hub"]["cull_from"]


def test_a_tab_polling_through_the_proxy_keeps_the_server_and_is_named(hub, alice):
    # Given alice's server read through the hub's proxy every 3 s, as a visible tab's panel does
    polled = {"at": 0.0}

    def tab():
        if time.time() - polled["at"] >= 3:
            alice.sessions(through_proxy=True)
            polled["at"] = time.time()

    culled, readings = alice.watch_until_culled(TIMEOUT + 2 * EVERY + 5, poll=tab)
    # Then the hub does not cull it, and colab-guard says the tab's polling keeps it alive
    assert culled is None
    hub_view = readings[-1]["server"]["hub"]
    assert {"source": "colab-guard-panel"}.items() <= hub_view["kept_alive_by"][0].items(), hub_view
    assert "visible browser tab keeps this server running" in hub_view["message"]
    assert readings[-1]["server"]["seconds_to_idle_disconnect"] > TIMEOUT - 5, readings[-1]["server"]
    # When the tab is hidden (no more polls), the server is culled inside the predicted window
    culled, readings = alice.watch_until_culled(TIMEOUT + EVERY + 20)
    assert culled is not None
    assert_inside_window(culled, readings[-1]["server"])


class KernelConnection:
    """A notebook's kernel websocket through the hub's proxy, kept open on its own thread
    (tornado's client answers the server's pings, as a browser does)."""

    def __init__(self, hub, token: str, kernel_id: str):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = f"ws://127.0.0.1:{hub.port}/user/alice/api/kernels/{kernel_id}/channels"
        request = HTTPRequest(url, headers={"Authorization": f"token {token}"})
        self.loop = asyncio.new_event_loop()
        self.opened = threading.Event()
        self.closing: asyncio.Event | None = None

        async def hold():
            self.closing = asyncio.Event()
            connection = self.connection = await websocket_connect(request)
            self.opened.set()
            reader = asyncio.ensure_future(self._drain(connection))
            await self.closing.wait()
            reader.cancel()
            connection.close()

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(hold(),), daemon=True)
        self.thread.start()
        assert self.opened.wait(20), "the kernel websocket did not open"

    @staticmethod
    async def _drain(connection):
        while await connection.read_message() is not None:
            pass

    def execute(self, code: str) -> None:
        """Send an execute_request on the shell channel, as JupyterLab does (JSON over the websocket)."""
        from jupyter_client.jsonutil import json_default
        from jupyter_client.session import Session

        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}
        message = {**Session().msg("execute_request", content), "channel": "shell"}
        text = json.dumps(message, default=json_default)
        self.loop.call_soon_threadsafe(self.connection.write_message, text)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.closing.set)
        self.thread.join(10)


def test_an_open_kernel_connection_keeps_the_server_and_no_cull_is_counted_down(hub, alice):
    # Given alice's kernel, with a notebook's websocket connection to it left open through the proxy
    response = hub.api("POST", "/user/alice/api/kernels", token=alice.token, json={"name": "python3"})
    assert response.status_code == 201, response.text
    connection = KernelConnection(hub, alice.token, response.json()["id"])
    try:
        culled, readings = alice.watch_until_culled(TIMEOUT + 2 * EVERY + 10)
        # Then the hub keeps the server, and colab-guard neither counts down to a cull that will
        # not come nor stays silent about why
        assert culled is None, f"culled while connected:\n{hub.logs()}"
        last = readings[-1]["server"]
        assert last["hub"]["kept_alive_by"][0]["source"] == "kernel-connection", last["hub"]
        assert last["seconds_to_idle_disconnect"] is None and last["hub"]["cull_from"] is None
        assert "A notebook open in a browser tab keeps this server running" in last["hub"]["message"]
    finally:
        connection.close()
    # When the notebook is closed, the cull comes inside the window counted down from then
    culled, readings = alice.watch_until_culled(TIMEOUT + EVERY + 40)
    assert culled is not None
    assert_inside_window(culled, readings[-1]["server"])


def test_a_busy_kernel_is_warned_and_snapshotted_before_the_hub_culls(hub, alice, monkeypatch):
    # Given a notebook whose cell runs for minutes, its browser tab then closed (the cell runs on)
    response = hub.api("POST", "/user/alice/api/kernels", token=alice.token, json={"name": "python3"})
    assert response.status_code == 201, response.text
    kernel_id = response.json()["id"]
    connection = KernelConnection(hub, alice.token, kernel_id)
    connection.execute("import time\nresults = list(range(1000))\nfor _ in range(400):\n    time.sleep(1)")
    for _ in range(40):
        if any(k["execution_state"] == "busy" for k in alice.sessions()["kernels"]):
            break
        time.sleep(0.5)
    connection.close()
    # When the hub's culler ends the server
    culled, readings = alice.watch_until_culled(TIMEOUT + EVERY + 40)
    assert culled is not None, f"not culled:\n{hub.logs()}"
    # Then, before it did, the panel warned that the running cell does not keep the server alive
    warned = [w for r in readings for w in r["warnings"] if w["kind"] == "hub-cull"]
    assert warned and "although a cell is running" in warned[0]["message"], readings[-1]["warnings"]
    # and the kernel saved its variables, saying why (in alice's folder: all hub users run as root here)
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    snaps = list_snapshots(os.path.join(hub.homes, "snapshots"))
    before = [s for s in snaps if s["reason"] == "before the hub stops this server" and s["created_ts"] < culled]
    assert before and "results" in before[0]["variables"], [(s["reason"], s["created"]) for s in snaps]


def test_without_the_hub_the_countdown_says_it_is_the_server_own(hub, monkeypatch):
    # Given a server whose hub token cannot be used (the hub does not answer it)
    from colab_guard.server.hub_clock import HubClock, HubSettings

    clock = HubClock(HubSettings(f"http://127.0.0.1:{hub.port}/hub/api", "not-a-token", "alice"), log=_Log())
    asyncio.run(clock.refresh())
    view = clock.view(time.time(), time.time() - 5, 0, 0, TIMEOUT, EVERY)
    # Then the view says the hub did not answer, and why
    assert view["answered"] is False and "403" in view["error"], view


class _Log:
    def warning(self, *args):
        print(*args, file=sys.stderr)
