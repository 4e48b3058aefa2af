"""The REST endpoints. Every one is authenticated and authorised by jupyter_server."""

from __future__ import annotations

import asyncio
import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..contract.manifests import SnapshotError, delete_snapshot


class ColabGuardHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every colab-guard endpoint."""

    # An admin's authorizer can allow or deny "colab_guard" like any jupyter_server resource.
    auth_resource = "colab_guard"
    # Monitoring must never keep a runtime alive: these requests do not move last_activity.
    _track_activity = False

    def write_error(self, status_code: int, **kwargs) -> None:
        """JSON errors as jupyter_server's; a 405 also says which methods exist (HTTP requires it)."""
        if status_code == 405:
            allowed = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m.lower() in vars(type(self))]
            self.set_header("Allow", ", ".join(allowed))
        super().write_error(status_code, **kwargs)

    def write_json_bytes(self, body: bytes) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(body)


class ResourcesHandler(ColabGuardHandler):
    """GET the latest sample of memory, CPU, disks and accelerators."""

    @web.authenticated
    @authorized
    def get(self):
        self.write_json_bytes(self.extensionapp.sampler.latest_json)


class SessionsHandler(ColabGuardHandler):
    """GET every kernel with its memory and its countdown, the server's countdowns, policy and cost."""

    @web.authenticated
    @authorized
    async def get(self):
        self.finish(json.dumps(await self.extensionapp.sessions.payload()))


class HistoryHandler(ColabGuardHandler):
    """GET the recent samples as parallel arrays (``?seconds=N``, default 600)."""

    @web.authenticated
    @authorized
    def get(self):
        raw = self.get_argument("seconds", "600")
        try:
            seconds = float(raw)
        except ValueError:
            raise web.HTTPError(400, f"seconds must be a number, not {raw!r}") from None
        if not 0 < seconds <= 86400 or seconds != seconds:
            raise web.HTTPError(400, f"seconds must be between 0 and 86400, not {raw!r}")
        history = self.extensionapp.sampler.history
        # one tag per sample and window: a client polling between samples gets 304 Not Modified
        self._etag = f'"{history.version()}-{seconds}"'
        self.set_header("Content-Type", "application/json")
        self.finish(history.serialized(seconds))

    def compute_etag(self) -> str | None:
        return getattr(self, "_etag", None)


class SnapshotsHandler(ColabGuardHandler):
    """GET every snapshot, newest first."""

    @web.authenticated
    @authorized
    async def get(self):
        snapshots = await run_sync(self.extensionapp.snapshot_list.get)
        self.finish(json.dumps({"snapshot_dir": self.extensionapp.snapshot_dir, "snapshots": snapshots}))


class SnapshotHandler(ColabGuardHandler):
    """DELETE one snapshot, named by its notebook key and id."""

    @web.authenticated
    @authorized
    async def delete(self, key: str, snapshot: str):
        try:
            app = self.extensionapp
            await run_sync(delete_snapshot, app.snapshot_dir, key, snapshot)  # type: ignore[attr-defined]
            app.snapshot_list.forget()  # type: ignore[attr-defined]
        except SnapshotError as exc:
            raise web.HTTPError(400, str(exc)) from None
        except FileNotFoundError as exc:
            raise web.HTTPError(404, str(exc)) from None
        except OSError as exc:
            raise web.HTTPError(400, f"cannot delete snapshot {key[:80]}/{snapshot[:80]}: {exc.strerror or exc}") from None
        self.set_status(204)
        self.finish()


class PostmortemHandler(ColabGuardHandler):
    """GET why a kernel died: its exit signal, the OOM-kill counter, its last memory figures."""

    @web.authenticated
    @authorized
    def get(self, kernel_id: str):
        report = self.extensionapp.kernels.postmortems.get(kernel_id)  # type: ignore[attr-defined]
        if report is None:
            # repr: an id with a line break must not forge a line in the server's log
            raise web.HTTPError(404, f"no post-mortem for kernel {kernel_id[:80]!r}: it has not died while this server ran")
        self.finish(json.dumps(report))


class PostmortemsHandler(ColabGuardHandler):
    """GET every post-mortem of this server, and those found from a previous session."""

    @web.authenticated
    @authorized
    def get(self):
        kernels = self.extensionapp.kernels
        self.finish(json.dumps({"kernels": list(kernels.postmortems.values()), "previous_session": kernels.previous_session}))


async def run_sync(fn, *args):
    """Disk work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


ROUTES = [
    (r"/colab-guard/v1/resources", ResourcesHandler),
    (r"/colab-guard/v1/sessions", SessionsHandler),
    (r"/colab-guard/v1/history", HistoryHandler),
    (r"/colab-guard/v1/snapshots", SnapshotsHandler),
    (r"/colab-guard/v1/snapshots/([^/]+)/([^/]+)", SnapshotHandler),
    (r"/colab-guard/v1/kernels/([^/]+)/postmortem", PostmortemHandler),
    (r"/colab-guard/v1/postmortems", PostmortemsHandler),
]
