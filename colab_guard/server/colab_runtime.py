"""Colab's own resource endpoints, served from colab-guard's sampler on a local runtime.

Colab's front end (and Colab's VS Code extension) read ``GET {base_url}api/colab/resources`` and
``GET {base_url}api/colab/build-info``, which Colab's hosted runtime serves from its own server
extension (googlecolab/colabtools, ``google/colab/_serverextension``). A plain Jupyter server that
Colab connects to as a local runtime has neither; colab-guard serves both, in the same shape
(JSON behind the XSSI prefix), from its latest sample: the real memory limit and working set, not
/proc/meminfo; GPUs through NVML, not ``nvidia-smi`` on every poll. In Colab's hosted runtime (and
Colab's runtime image) Colab's extension serves them, so colab-guard does not.

Also: Chrome's Private Network Access preflight, which jupyter_server does not answer, for a
server that a public site such as Colab calls on localhost (``ColabGuard.allow_private_network``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import origin_matches_pat
from tornado import web
from tornado.web import OutputTransform

from ..readers.environment import detect_environment
from .routes import ColabGuardHandler

COLAB_ORIGIN = "https://colab.research.google.com"
# Colab's endpoints prefix their JSON with this to defeat cross-site script inclusion; its clients strip it.
XSSI_PREFIX = b")]}'\n"
STATE_KEY = "colab_guard_colab_runtime"


# -- the resources payload, from one sample


def _gpu_key(gpu: dict):
    return gpu.get("uuid") or gpu.get("index")


def _fraction(percent) -> float | None:
    return None if percent is None else percent / 100.0


def colab_resources(sample: dict, kernels: Mapping[str, int], ever_used: set) -> dict:
    """The ``/api/colab/resources`` answer for one sample of the sampler.

    ``totalBytes`` is the limit that really applies and ``freeBytes`` the headroom under it (limit
    minus working set), where Colab's own extension reports the host's RAM from /proc/meminfo.
    ``everUsed`` stays true once this server has seen memory in use on that GPU (``ever_used`` holds
    their keys and is updated here). A utilisation NVML cannot give is left out, not reported as 0.
    """
    memory = sample.get("host", {}).get("memory", {})
    limit = memory.get("limit")
    headroom = memory.get("headroom")
    out: dict = {
        "memory": {
            "totalBytes": limit or 0,
            "freeBytes": max(0, headroom) if headroom is not None else 0,
            "kernels": [{"uuid": kernel_id, "usedBytes": used} for kernel_id, used in kernels.items()],
        },
        "disks": [],
        "gpus": [],
    }
    seen_disks = set()
    for name, disk in sample.get("host", {}).get("disk", {}).items():
        if disk.get("total") is None:
            continue
        # root_dir and snapshot_dir are often one filesystem: read in the same sample, same figures
        figures = (disk["total"], disk["used"], disk["free"])
        if figures in seen_disks:
            continue
        seen_disks.add(figures)
        # Colab calls the disk the kernel works on "kernel" and any other by its path
        label = "kernel" if name == "root_dir" else disk.get("path") or name
        out["disks"].append({"filesystem": {"label": label, "totalBytes": disk["total"], "usedBytes": disk["used"]}})
    for gpu in sample.get("accelerators", []):
        if gpu.get("kind") != "gpu":
            continue
        used = gpu.get("memory_used")
        if used:
            ever_used.add(_gpu_key(gpu))
        entry = {
            "name": gpu.get("name"),
            "memoryUsedBytes": used or 0,
            "memoryTotalBytes": gpu.get("memory_total") or 0,
            "everUsed": _gpu_key(gpu) in ever_used,
        }
        for key, value in (("gpuUtilization", gpu.get("utilization_gpu")), ("memoryUtilization", gpu.get("utilization_memory"))):
            if value is not None:
                entry[key] = _fraction(value)
        out["gpus"].append(entry)
    return out


# -- per-server state


class RuntimeState:
    """What the Colab endpoints of one server remember between requests: the GPUs seen in use."""

    def __init__(self):
        self.ever_used_gpus: set = set()


def kernel_memory(app) -> dict[str, int]:
    """Resident memory of each running kernel's process tree, by kernel id, in the server's order.

    The sampler measures the kernels' process trees on its own thread with every sample; this only
    reads its latest figures. A kernel it has not measured yet (started within the last second or
    so) or whose process is gone is left out.
    """
    usage = app.sampler.kernel_usage
    out = {}
    for kernel_id in app.serverapp.kernel_manager.list_kernel_ids():
        rss = usage.get(kernel_id, {}).get("rss")
        if rss is not None:
            out[kernel_id] = rss
    return out


# -- handlers


class ColabResourcesHandler(ColabGuardHandler):
    """GET Colab's resources shape (memory, per-kernel memory, disks, GPUs) from the latest sample."""

    @web.authenticated
    @authorized
    def get(self):
        app = self.extensionapp
        state = self.settings.setdefault(STATE_KEY, RuntimeState())
        body = colab_resources(app.sampler.latest, kernel_memory(app), state.ever_used_gpus)
        self.write_json_bytes(XSSI_PREFIX + json.dumps(body).encode())


class ColabBuildInfoHandler(ColabGuardHandler):
    """GET the Colab release this runtime claims (``COLAB_RELEASE_TAG``; null outside Colab's images)."""

    @web.authenticated
    @authorized
    def get(self):
        body = {"release_tag": os.environ.get("COLAB_RELEASE_TAG") or None}
        self.write_json_bytes(XSSI_PREFIX + json.dumps(body).encode())


def routes(env: Mapping[str, str] | None = None) -> list[tuple]:
    """Colab's endpoints, except in Colab's own runtime (hosted or its image), whose extension serves them."""
    if detect_environment(env)["kind"] == "colab":
        return []
    return [
        (r"/api/colab/resources", ColabResourcesHandler),
        (r"/api/colab/build-info", ColabBuildInfoHandler),
    ]


# Decided when the server imports colab-guard: Colab's variables are set before its server starts.
ROUTES = routes()


# -- Private Network Access


def origin_allowed(settings: Mapping, origin: str | None) -> bool:
    """Whether the server's CORS settings name this origin (``allow_origin`` exactly, or ``allow_origin_pat``).

    ``allow_origin = '*'`` does not count: private network access is granted to named sites only.
    """
    if not origin:
        return False
    allow_origin = settings.get("allow_origin") or ""
    if allow_origin:  # as jupyter_server: allow_origin, when set, wins over allow_origin_pat
        return allow_origin != "*" and allow_origin == origin
    pattern = settings.get("allow_origin_pat")
    return bool(pattern) and origin_matches_pat(pattern, origin)  # type: ignore[arg-type]  # a str or a compiled pattern


def private_network_transform(settings: Mapping) -> type[OutputTransform]:
    """A tornado output transform adding ``Access-Control-Allow-Private-Network: true`` to the answer of
    a preflight that asks for it (``Access-Control-Request-Private-Network: true``) from an allowed origin.

    Chrome sends that preflight before a public site (Colab) may call a server on localhost or a
    private address; jupyter_server answers the rest of the preflight (its ``OPTIONS`` handlers).
    """

    class PrivateNetworkAccess(OutputTransform):
        def __init__(self, request):
            super().__init__(request)
            self._grant = (
                request.method == "OPTIONS"
                and request.headers.get("Access-Control-Request-Private-Network", "").strip().lower() == "true"
                and origin_allowed(settings, request.headers.get("Origin"))
            )

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if self._grant and status_code < 400:
                headers["Access-Control-Allow-Private-Network"] = "true"
            return status_code, headers, chunk

    PrivateNetworkAccess.settings_source = settings  # type: ignore[attr-defined]  # to recognise it in web_app.transforms
    return PrivateNetworkAccess


def install(app) -> None:
    """Add the Private Network Access transform to this server's web app when ``allow_private_network`` is set."""
    if not app.allow_private_network:
        return
    web_app = app.serverapp.web_app
    if any(getattr(t, "settings_source", None) is web_app.settings for t in web_app.transforms):
        return
    web_app.transforms.append(private_network_transform(web_app.settings))
    allowed = _describe_allowed(web_app.settings)
    if allowed:
        app.log.info("colab-guard: answering Private Network Access preflights from %s", allowed)
    else:
        app.log.warning(
            "colab-guard: ColabGuard.allow_private_network is set but ServerApp.allow_origin names no site "
            "(it is unset or '*'), so no preflight is granted; set it to the site that connects, e.g. %s",
            COLAB_ORIGIN,
        )


def _describe_allowed(settings: Mapping) -> str:
    allow_origin = settings.get("allow_origin") or ""
    if allow_origin:
        return "" if allow_origin == "*" else allow_origin
    pattern = settings.get("allow_origin_pat")
    return f"origins matching {pattern.pattern if hasattr(pattern, 'pattern') else pattern}" if pattern else ""
