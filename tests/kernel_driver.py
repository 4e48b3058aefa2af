"""One driver of real ipykernels for the tests and the benchmarks, started outside a Jupyter
server (as Colab's runtime or a benchmark starts them), optionally in a real cgroup."""

from __future__ import annotations

import json
import queue
import time

from jupyter_client.manager import KernelManager
from kernel_helpers import collect


class LocalKernel:
    """A real ipykernel and a client to it; every iopub message of each run is kept."""

    def __init__(self, env: dict[str, str], cwd: str | None = None, extra_arguments: tuple[str, ...] = (), cgroup=None):
        self.other: list[dict] = []  # iopub messages of no cell this object ran (threads' output)
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=env, cwd=cwd, extra_arguments=list(extra_arguments))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        if cgroup is not None:  # a container's limit: the kernel in a cgroup of its own
            cgroup.add(self.pid)

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

    def output(self, code: str, timeout: float = 600) -> str:
        """Execute and wait until idle; the text it printed; RuntimeError where it raised."""
        out = self.run(code, timeout)
        if out["error"] is not None:
            raise RuntimeError(out["error"])
        return out["text"]

    def start(self, code: str) -> None:
        """Execute without waiting."""
        self.client.execute(code)

    def messages(self, seconds: float) -> list[dict]:
        """Every iopub message for ``seconds``, whichever cell they belong to (output of threads)."""
        found, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                found.append(self.client.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return found

    def drain(self) -> None:
        """Drop pending iopub messages."""
        try:
            while True:
                self.client.get_iopub_msg(timeout=0.01)
        except queue.Empty:
            pass

    def value(self, expression: str):
        """The value of a Python expression in the kernel, through JSON."""
        out = self.run(f"import json as _j; print(_j.dumps({expression}))")
        assert out["error"] is None, out
        return json.loads(out["text"].strip().splitlines()[-1])

    def plain(self, code: str) -> str:
        """The text/plain of what ``code`` shows (``%guard status``), with its printed text."""
        out = self.run(code)
        assert out["error"] is None, out
        return out["text"] + "\n".join(d.get("text/plain", "") for d in out["data"])

    def wait_dead(self, timeout: float) -> bool:
        """Whether the kernel process died within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.manager.provisioner.process.poll() is not None:
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
