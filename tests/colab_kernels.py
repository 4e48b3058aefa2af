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
import queue
import time

from jupyter_client.manager import KernelManager
from kernel_helpers import collect

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


class ColabKernel:
    """A real ipykernel with Colab's environment; every iopub message of each run is kept."""

    def __init__(self, root, cgroup=None, load: bool = True, **env: str):
        self.root = str(root)
        self.other: list[dict] = []  # iopub messages of no cell this object ran (threads' output)
        self.env = colab_env(self.root, **env)
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=self.env, cwd=os.path.join(self.root, "content"))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        if cgroup is not None:  # Colab's container: the kernel in a memory cgroup of its own
            with open(cgroup.procs, "w") as f:
                f.write(str(self.pid))
        if load:
            out = self.run("%load_ext colab_guard")
            assert out["error"] is None, out

    @property
    def pid(self) -> int:
        return self.manager.provisioner.process.pid

    def run(self, code: str, timeout: float = 120) -> dict:
        """Execute and wait until idle: stdout+stderr text, rich outputs, display updates, the error."""
        msg_id = self.client.execute(code)
        out: dict = {"text": "", "data": [], "updates": [], "displays": [], "error": None}
        deadline = time.monotonic() + timeout
        while True:
            msg = self.client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                self.other.append(msg)
                continue
            if collect(out, msg):
                return out

    def messages(self, seconds: float) -> list[dict]:
        """Every iopub message for ``seconds``, whichever cell they belong to (output of threads)."""
        found, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                found.append(self.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return found

    def value(self, expression: str):
        """The value of a Python expression in the kernel, through JSON."""
        out = self.run(f"import json as _j; print(_j.dumps({expression}))")
        assert out["error"] is None, out
        import json

        return json.loads(out["text"].strip().splitlines()[-1])

    def plain(self, code: str) -> str:
        """The text/plain of what ``code`` shows (``%guard status``), with its printed text."""
        out = self.run(code)
        assert out["error"] is None, out
        return out["text"] + "\n".join(d.get("text/plain", "") for d in out["data"])

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
