"""The JupyterHub's own clock: when the hub's idle culler will end this server, and what keeps it alive.

jupyterhub-idle-culler ends a server at its first check (every ``--cull-every``) after the hub's
``last_activity`` of that server is older than ``--timeout``. The hub takes the newest of the
proxy's per-route activity (every request and websocket message a client sends through the proxy,
colab-guard's own polls included) and the server's own reports (jupyter_server's activity: kernel
messages, API requests). So this server asks the hub for the figure the culler reads, adds what
the hub has not polled yet (requests that came through the proxy, its own activity), and says
which source keeps the server alive: an open notebook's kernel connection answers the server's
websocket pings every 30 s, so the hub never culls while one is open.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.web import OutputTransform

from ..contract.files import parse_json
from ..contract.times import epoch, iso
from ..contract.units import human_duration

# The hub is asked this often (it polls its proxy every 5 min by default; a thousand servers asking
# every 10 s would be a hundred requests a second), and every NEAR_REFRESH_SECONDS within
# NEAR_SECONDS of the cull, where the moment matters.
REFRESH_SECONDS = 60.0
NEAR_REFRESH_SECONDS = 10.0
NEAR_SECONDS = 300.0
HUB_TIMEOUT = 5.0  # seconds the hub gets to answer
POLLING_SECONDS = 30.0  # a tab that requested less than this ago is still polling (JupyterLab: every 10 s)
# A busy kernel is snapshotted, and the user warned, this long before the hub's culler may end the server.
HUB_CULL_LEAD = 60.0
PROXY_HEADER = "X-Forwarded-For"  # configurable-http-proxy adds it: the request came through the hub's proxy


@dataclass
class HubSettings:
    """Where the hub is and who this server is, from the environment JupyterHub's spawner sets."""

    api_url: str
    token: str
    user: str
    server_name: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSettings | None:
        """None where this server was not started by a JupyterHub."""
        env = os.environ if env is None else env
        url, token, user = env.get("JUPYTERHUB_API_URL"), env.get("JUPYTERHUB_API_TOKEN"), env.get("JUPYTERHUB_USER")
        if not (url and token and user):
            return None
        return cls(url.rstrip("/"), token, user, env.get("JUPYTERHUB_SERVER_NAME", ""))


@dataclass
class ClientRequests:
    """When clients last reached this server through the hub's proxy, by kind: what the proxy counts."""

    last: dict[str, float] = field(default_factory=dict)  # "colab-guard" or "jupyter" -> epoch

    def record(self, request) -> None:
        """A request arrives (its headers are all this looks at)."""
        if PROXY_HEADER not in request.headers:
            return  # from the hub itself, or a client on the server's own port: not counted by the hub
        kind = "colab-guard" if "/colab-guard/" in request.path else "jupyter"
        self.last[kind] = time.time()

    def install(self, web_app) -> None:
        """Record every request, through tornado's output transforms (one is made per request)."""
        requests = self

        class Recorder(OutputTransform):
            def __init__(self, request):
                super().__init__(request)
                requests.record(request)

        web_app.add_transform(Recorder)


class HubClock:
    """This server's last activity as the hub sees it, asked of the hub with the server's own token."""

    def __init__(self, settings: HubSettings, log):
        self.settings = settings
        self.log = log
        self.requests = ClientRequests()
        self.last_activity: float | None = None  # the hub's figure
        self.basis: str | None = None  # "server" (this server's own) or "user" (the user's, all servers)
        self.started: float | None = None
        self.error: str | None = None
        self.asked_at = float("-inf")
        self.cull_from: float | None = None  # the last view's countdown: near it the hub is asked more often

    async def refresh(self, now: float | None = None) -> None:
        """Ask the hub, every REFRESH_SECONDS (more often near the cull); a failure is kept, said,
        and logged once."""
        now = time.time() if now is None else now
        near = self.cull_from is not None and self.cull_from - now < NEAR_SECONDS
        if now - self.asked_at < (NEAR_REFRESH_SECONDS if near else REFRESH_SECONDS):
            return
        self.asked_at = now
        s = self.settings
        url = f"{s.api_url}/users/{quote(s.user, safe='')}"
        try:
            response = await AsyncHTTPClient().fetch(
                url, headers={"Authorization": f"token {s.token}"}, request_timeout=HUB_TIMEOUT
            )
            self._read(parse_json(response.body))
        except (OSError, HTTPClientError, ValueError, TypeError, KeyError, AttributeError) as exc:
            if self.error is None:
                self.log.warning("colab-guard: cannot read this server's activity from the hub (%s): %s", url, exc)
            self.error = f"{type(exc).__name__}: {exc}"
            return
        self.error = None

    def _read(self, model: dict) -> None:
        """The server's own activity where the token may read servers, else the user's."""
        server = (model.get("servers") or {}).get(self.settings.server_name)
        if isinstance(server, dict) and server.get("last_activity"):
            self.last_activity, self.basis = epoch(server["last_activity"]), "server"
            self.started = epoch(server.get("started"))
        elif model.get("last_activity"):
            self.last_activity, self.basis = epoch(model["last_activity"]), "user"
        else:
            raise ValueError("the hub's answer has no last_activity (the token may lack read:users:activity)")

    def view(
        self, now: float, own_activity: float | None, connections: int, busy: int, timeout: float | None, every: float | None
    ) -> dict:
        """The culler's countdown and what keeps this server alive, as the sessions payload serves it."""
        proxied = max(self.requests.last.values(), default=None)
        known = [t for t in (self.last_activity, proxied, own_activity) if t is not None]
        activity = max(known) if known else None
        sources = self._sources(now, own_activity, connections, busy)
        ends = ends_late = None
        if timeout and activity is not None and not connections:
            ends = activity + timeout
            ends_late = ends + every if every else ends
        self.cull_from = ends
        return {
            "answered": self.error is None and self.last_activity is not None,
            "error": self.error,
            "hub_last_activity": iso(self.last_activity),
            "basis": self.basis,
            "activity": iso(activity),
            "cull_from": iso(ends),
            "cull_by": iso(ends_late),
            "kept_alive_by": sources,
            "message": self._message(now, sources, connections, timeout, ends),
        }

    def _sources(self, now: float, own_activity: float | None, connections: int, busy: int) -> list[dict]:
        """What moved the hub's clock lately, newest first."""
        out = []
        if connections:
            out.append({"source": "kernel-connection", "count": connections, "last": iso(now)})
        for kind, source in (("jupyter", "browser-tab"), ("colab-guard", "colab-guard-panel")):
            at = self.requests.last.get(kind)
            if at is not None and now - at < POLLING_SECONDS:
                out.append({"source": source, "last": iso(at)})
        if busy:
            out.append({"source": "busy-kernel", "count": busy, "last": iso(own_activity)})
        return out

    def _message(self, now: float, sources: list[dict], connections: int, timeout: float | None, ends: float | None) -> str:
        """One sentence a user acts on: what the hub counts now, and what follows."""
        after = f" in {human_duration(timeout)}" if timeout else ""
        if connections:
            return (
                f"A notebook open in a browser tab keeps this server running (its kernel connection counts as activity); "
                f"close it to let the hub stop the server{after} after the last activity."
            )
        if any(s["source"] in ("browser-tab", "colab-guard-panel") for s in sources):
            return (
                f"A visible browser tab keeps this server running (its polling counts as activity); "
                f"once every tab is hidden or closed the hub stops it{after}."
            )
        if ends is None:
            return "The hub's idle culler's timeout is not known here (ColabGuard.idle_timeout)."
        busy = (
            " although a cell is running (the hub does not count running cells)"
            if any(s["source"] == "busy-kernel" for s in sources)
            else ""
        )
        return f"Nothing keeps this server running: the hub will stop it in {human_duration(max(0.0, ends - now))}{busy}."


def seconds_to_imminent_cull(hub: dict | None, now: float) -> float | None:
    """Seconds until the hub's culler may end this server, where that is within HUB_CULL_LEAD; else None."""
    cull_from = epoch(hub.get("cull_from")) if hub and hub.get("answered") else None
    if cull_from is None or cull_from - now > HUB_CULL_LEAD:
        return None
    return max(0.0, cull_from - now)


def busy_cull_warning(hub: dict | None, now: float) -> str | None:
    """The warning that the hub will end this server soon although cells run; None when it will not."""
    busy = next((s["count"] for s in (hub or {}).get("kept_alive_by", []) if s["source"] == "busy-kernel"), 0)
    seconds = seconds_to_imminent_cull(hub, now)
    if not busy or seconds is None:
        return None
    cells = "a cell is running" if busy == 1 else f"cells are running in {busy} notebooks"
    return (
        f"The hub will stop this server in about {human_duration(seconds)} although {cells}: "
        "the hub counts what browser tabs send, not running cells. colab-guard saves the variables of the running "
        "notebooks now; keep a notebook open in a browser tab to keep the server running."
    )
