"""Where this server runs: Google Colab, a JupyterHub single-user server, or a local Jupyter."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

# Variables Colab's hosted runtime sets for its own server and kernels.
COLAB_MARKERS = ("COLAB_RELEASE_TAG", "COLAB_BACKEND_VERSION", "COLAB_GPU", "COLAB_JUPYTER_IP")


def detect_environment(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``kind`` is "colab", "jupyterhub" or "local"; ``user`` is JupyterHub's user name where given."""
    env = os.environ if env is None else env
    colab = [k for k in COLAB_MARKERS if k in env]
    hub = sorted(k for k in env if k.startswith("JUPYTERHUB_"))
    if colab:
        kind = "colab"
    elif "JUPYTERHUB_USER" in env or "JUPYTERHUB_API_TOKEN" in env:
        kind = "jupyterhub"
    else:
        kind = "local"
    return {
        "kind": kind,
        "user": env.get("JUPYTERHUB_USER") or None,
        "colab_release": env.get("COLAB_RELEASE_TAG") or None,
        # names only: JUPYTERHUB_API_TOKEN's value must never leave the server
        "markers": colab + hub,
    }
