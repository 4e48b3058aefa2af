"""The REST endpoints. Every one is authenticated and authorised by jupyter_server."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web


class ColabGuardHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every colab-guard endpoint."""

    # An admin's authorizer can allow or deny "colab_guard" like any jupyter_server resource.
    auth_resource = "colab_guard"
    # Monitoring must never keep a runtime alive: these requests do not move last_activity.
    _track_activity = False

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


ROUTES = [
    (r"/colab-guard/v1/resources", ResourcesHandler),
]
