"""One live-server harness: a Jupyter server with colab-guard in a subprocess on loopback.

For what cannot share pytest-jupyter's in-process server: synchronous clients (schemathesis),
console scripts (`colab-guard local-runtime`), several servers at once, and the benchmarks.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import NamedTuple

TOKEN = "colab-guard-live-server-" + "0" * 16


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(root: str, **extra: str) -> dict[str, str]:
    """This process's environment without Jupyter's, Colab's or colab-guard's own variables, with
    Jupyter's config, data and runtime dirs under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLAB_", "JUPYTER_TOKEN", "JPY_", "JUPYTERHUB_"))}
    env.update(
        JUPYTER_CONFIG_DIR=os.path.join(root, "config"),
        JUPYTER_DATA_DIR=os.path.join(root, "data"),
        JUPYTER_RUNTIME_DIR=os.path.join(root, "runtime"),
    )
    env.update(extra)
    return env


def server_argv(
    port: int, root_dir: str, token: str = TOKEN, *extra: str, extensions: str = '{"colab_guard": True}'
) -> list[str]:
    """``jupyter server`` with colab-guard (or the ``extensions`` given) on ``port``, no retries, on loopback."""
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.jpserver_extensions={extensions}",
        *extra,
    ]
    return [*argv, "--allow-root"] if os.geteuid() == 0 else argv


def _python_dict(extensions: Mapping[str, bool]) -> str:
    """A dict as traitlets reads it on the command line."""
    return "{" + ", ".join(f"{name!r}: {enabled}" for name, enabled in extensions.items()) + "}"


class Response(NamedTuple):
    status: int
    body: bytes
    headers: http.client.HTTPMessage


class LiveServer:
    """A server subprocess (``jupyter server`` unless ``argv`` says otherwise) and requests to it."""

    def __init__(
        self,
        root: str,
        *extra: str,
        argv: list[str] | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        token: str = TOKEN,
        stdout: int | None = None,
        host: str = "127.0.0.1",
        extensions: Mapping[str, bool] | None = None,
    ):
        self.root, self.token, self.host = root, token, host
        self.port = port or free_port()
        self.base_url = f"http://{host}:{self.port}"
        notebooks = os.path.join(root, "notebooks")
        os.makedirs(notebooks, exist_ok=True)
        self.log_path = os.path.join(root, f"server-{self.port}.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv
                or server_argv(self.port, notebooks, token, *extra, extensions=_python_dict(extensions or {"colab_guard": True})),
                env=dict(env) if env is not None else isolated_env(root),
                stdout=stdout if stdout is not None else log,
                stderr=log,
                cwd=root,
            )
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None, token: str | None = ""
    ) -> Response:
        """One request on a kept-alive connection; ``token=None`` sends none, ``""`` the server's."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"token {token or self.token}"
        for attempt in (1, 2):  # a kept-alive connection the server closed is opened again once
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self._conn.request(method, "/" + path.lstrip("/"), body=body, headers=headers)
                response = self._conn.getresponse()
                return Response(response.status, response.read(), response.headers)
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_ready(self, timeout: float = 60) -> None:
        """Until ``/api/status`` answers; the log's tail in the error otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if self.request("GET", "api/status").status == 200:
                    return
            except OSError:
                self._conn = None
            time.sleep(0.2)
        with open(self.log_path, errors="replace") as f:
            raise AssertionError(f"the server did not start (exit {self.process.poll()}):\n{f.read()[-3000:]}")

    def rss(self) -> int:
        """The server process's resident memory."""
        import psutil

        return int(psutil.Process(self.process.pid).memory_info().rss)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 30 s."""
        if self._conn is not None:
            self._conn.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
