"""Real ipykernels started as Colab's hosted runtime starts them, for the tests of the Colab case.

Colab's own Jupyter server starts the kernel (no colab-guard server, no ``JPY_SESSION_NAME``), with
Colab's variables set; the notebook folder is ``/content`` and Google Drive is mounted at
``/content/drive/MyDrive``. Here: Colab's markers in the environment, a ``content`` folder as the
kernel's working directory, a ``drive/MyDrive`` folder that ``COLAB_GUARD_DRIVE`` points to, and
Jupyter's own folders in the test's temporary dir. The user loads colab-guard by hand, as a Colab
user does: ``%load_ext colab_guard``.
"""

from __future__ import annotations

import os

from kernel_driver import LocalKernel

# Variables Colab's hosted runtime sets (colab_guard.readers.environment.COLAB_MARKERS).
COLAB_ENV = {
    "COLAB_RELEASE_TAG": "release-colab-20261201-060000-RC00",
    "COLAB_BACKEND_VERSION": "next",
    "COLAB_JUPYTER_IP": "172.28.0.12",
}
# A closed port: Colab's session list does not answer here (tests that want one set their own URL).
NO_SESSIONS = "http://127.0.0.1:9/api/sessions"


def colab_env(root, **extra: str) -> dict[str, str]:
    """The environment of a kernel of a Colab runtime under ``root`` (folders made)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLAB_", "JPY_", "TPU_", "JUPYTER_"))}
    for name in ("content", "drive/MyDrive", "jupyter/config", "jupyter/data", "jupyter/runtime"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    env.update(COLAB_ENV)
    env.update(
        COLAB_GUARD_DRIVE=os.path.join(root, "drive", "MyDrive"),
        COLAB_GUARD_SESSIONS_URL=NO_SESSIONS,
        JUPYTER_CONFIG_DIR=os.path.join(root, "jupyter", "config"),
        JUPYTER_DATA_DIR=os.path.join(root, "jupyter", "data"),
        JUPYTER_RUNTIME_DIR=os.path.join(root, "jupyter", "runtime"),
    )
    env.update(extra)
    return env


class ColabKernel(LocalKernel):
    """A real ipykernel with Colab's environment, colab-guard loaded by hand as a Colab user does."""

    def __init__(self, root, cgroup=None, load: bool = True, **env: str):
        self.root = str(root)
        self.env = colab_env(self.root, **env)
        super().__init__(self.env, cwd=os.path.join(self.root, "content"), cgroup=cgroup)
        if load:
            out = self.run("%load_ext colab_guard")
            assert out["error"] is None, out
