"""A real JupyterHub for the tests: its proxy, its tokens, its per-user servers.

JupyterHub with configurable-http-proxy (npm) on loopback ports, the DummyAuthenticator and a
LocalProcessSpawner that runs ``jupyterhub-singleuser`` as the hub's own user (root here: the
spawner skips the switch to a system user, so no account is created). An admin's settings for
every single-user server go through ``c.Spawner.args``; a test adds its own configuration after
the common one. Two users: alice and bob.
"""

import os
import shutil
import subprocess
import sys
import time

import pytest
from live_server import free_port

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# configurable-http-proxy is installed here by scripts/test.sh (git-ignored), else by this test
CHP_DIR = os.path.join(REPO, ".ci-cache", "chp")
CHP = os.path.join(CHP_DIR, "node_modules", ".bin", "configurable-http-proxy")
SERVICE_TOKEN = "colab-guard-hub-test-" + "0" * 16
PASSWORD = "colab-guard-test-password"

HUB_CONFIG = """
import os, sys
from jupyterhub.spawner import LocalProcessSpawner

HOMES = {homes!r}


class SameUserSpawner(LocalProcessSpawner):
    \"\"\"Runs every user's server as the hub's own user: no system account per hub user.\"\"\"

    def make_preexec_fn(self, name):
        return None

    def user_env(self, env):
        env["USER"] = self.user.name
        env["HOME"] = os.path.join(HOMES, self.user.name)
        return env


c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {public_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.db_url = "sqlite:///" + os.path.join({work!r}, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join({work!r}, "cookie_secret")
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = os.path.join({work!r}, "proxy.pid")
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = {{"alice", "bob"}}
c.Authenticator.admin_users = set()
c.JupyterHub.spawner_class = SameUserSpawner
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.notebook_dir = os.path.join(HOMES, "{{username}}")
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
# the admin's settings for every user's server
c.Spawner.args = [
    "--allow-root",
    "--ColabGuard.idle_timeout=3600",
    "--ColabGuard.max_lifetime=7200",
    "--ColabGuard.usage_log_interval=0",
    "--ColabGuard.snapshot_dir=" + os.path.join(HOMES, "snapshots"),
]
c.JupyterHub.services = [{{"name": "cg-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "cg-test-admin", "scopes": ["admin:users", "admin:servers", "tokens"], "services": ["cg-test"]}}
]
"""


def ensure_proxy() -> str:
    """configurable-http-proxy from npm, in the git-ignored cache; skip with the reason where impossible."""
    if os.access(CHP, os.X_OK):
        return CHP
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install configurable-http-proxy")
    os.makedirs(CHP_DIR, exist_ok=True)
    manifest = os.path.join(CHP_DIR, "package.json")
    if not os.path.exists(manifest):  # its own project: npm must not climb to the repository's package.json
        with open(manifest, "w") as f:
            f.write('{"private": true}\n')
    result = subprocess.run(
        [npm, "install", "--prefix", CHP_DIR, "--no-save", "--no-audit", "--no-fund", "configurable-http-proxy@5"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0 or not os.access(CHP, os.X_OK):
        pytest.skip(f"npm could not install configurable-http-proxy: {result.stderr.strip()[-500:]}")
    return CHP


class Hub:
    """A JupyterHub subprocess and a client of its REST API and proxy."""

    def __init__(self, work, chp: str, extra_config: str = ""):
        import httpx

        self.work = str(work)
        self.homes = os.path.join(self.work, "home")
        for user in ("alice", "bob"):
            os.makedirs(os.path.join(self.homes, user), exist_ok=True)
        self.port = free_port()
        config = os.path.join(self.work, "jupyterhub_config.py")
        with open(config, "w") as f:
            f.write(
                HUB_CONFIG.format(
                    homes=self.homes,
                    work=self.work,
                    public_port=self.port,
                    hub_port=free_port(),
                    proxy_api_port=free_port(),
                    chp=chp,
                    password=PASSWORD,
                    token=SERVICE_TOKEN,
                )  # fmt: skip
                + extra_config
            )
        self.log = open(os.path.join(self.work, "jupyterhub.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", config, "--debug"],
            cwd=self.work,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self.servers: list[tuple[str, str]] = []
        self.wait(lambda: self.api("GET", "/hub/api/").status_code == 200, 40, "the hub did not start")

    def logs(self) -> str:
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-4000:]

    def wait(self, ready, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyterhub exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if ready():
                    return
            except OSError:
                pass
            except Exception as exc:
                if "Connect" not in type(exc).__name__:
                    raise
            time.sleep(0.3)
        raise AssertionError(f"{what} within {seconds} s:\n{self.logs()}")

    def api(self, method: str, path: str, token: str = SERVICE_TOKEN, **kw):
        return self.http.request(method, path, headers={"Authorization": f"token {token}"}, **kw)

    def start_server(self, user: str, name: str = "") -> None:
        """Start a user's default server, or a named one (the hub must allow named servers)."""
        response = self.api("POST", f"/hub/api/users/{user}/servers/{name}" if name else f"/hub/api/users/{user}/server")
        assert response.status_code in (201, 202), (response.status_code, response.text)
        self.servers.append((user, name))

        def running():
            model = self.api("GET", f"/hub/api/users/{user}").json()
            return model["servers"].get(name, {}).get("ready")

        self.wait(running, 60, f"{user}'s server {name!r} did not start")

    def token_for(self, user: str) -> str:
        response = self.api("POST", f"/hub/api/users/{user}/tokens", json={"note": "colab-guard test", "expires_in": 600})
        assert response.status_code == 201, (response.status_code, response.text)
        return response.json()["token"]

    def stop(self) -> None:
        for user, name in self.servers:
            try:
                self.api("DELETE", f"/hub/api/users/{user}/servers/{name}" if name else f"/hub/api/users/{user}/server")
            except Exception:  # noqa: BLE001 - the hub may already be gone
                pass
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)
        self.log.close()


def start_hub(work, extra_config: str = "") -> Hub:
    """A hub with alice and bob; skipped with the reason where JupyterHub or the proxy cannot be had."""
    pytest.importorskip("jupyterhub", reason="JupyterHub is not installed (pip install jupyterhub)")
    hub = Hub(work, ensure_proxy(), extra_config)
    # the users exist (they are allowed; DummyAuthenticator takes them on first login or by the API)
    for user in ("alice", "bob"):
        response = hub.api("POST", f"/hub/api/users/{user}")
        assert response.status_code in (201, 409), (response.status_code, response.text)
    return hub


def stop_hub(hub: Hub) -> None:
    """Stop the hub; no single-user server may outlive the test."""
    import psutil

    children = children_of(hub.proc.pid)  # before the hub exits: its children are reparented then
    hub.stop()
    for proc in children:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def children_of(pid: int):
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
