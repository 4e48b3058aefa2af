"""Real ipykernels with colab-guard's watcher, for the benchmarks: started as the server starts them."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator

from jupyter_client.manager import KernelManager

from colab_guard.contract.channels import NOTEBOOK_VARIABLES
from colab_guard.contract.settings import WatcherSettings

CGROUP_V1 = "/sys/fs/cgroup"


class Kernel:
    """A real ipykernel with ``--ext=colab_guard`` and the watcher's settings in its environment."""

    def __init__(self, snapshot_dir: str, notebook: str, **settings: object):
        # the environment a server hands its kernels, through the settings' own codec
        watcher = WatcherSettings.from_env({}, remembered=False).with_values({"snapshot_dir": snapshot_dir, **settings})
        env = {**os.environ, **watcher.to_env(), NOTEBOOK_VARIABLES[0]: notebook}
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(extra_arguments=["--ext=colab_guard"], env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    @property
    def pid(self) -> int:
        return self.manager.provisioner.process.pid

    def run(self, code: str, timeout: float = 600) -> str:
        """Execute and wait until idle; returns stdout; raises on an error."""
        msg_id = self.client.execute(code)
        text = ""
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text += msg["content"]["text"]
            elif msg["msg_type"] == "error":
                raise RuntimeError(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return text

    def start(self, code: str) -> None:
        """Execute without waiting."""
        self.client.execute(code)

    def wait_dead(self, timeout: float) -> bool:
        """Whether the kernel process died within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.manager.provisioner.process.poll() is not None:
                return True
            time.sleep(0.2)
        return False

    def drain(self) -> None:
        """Drop pending iopub messages."""
        try:
            while True:
                self.client.get_iopub_msg(timeout=0.01)
        except queue.Empty:
            pass

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


class Cgroup:
    """A cgroup v1 child of one controller (memory or blkio), removed by ``remove``."""

    def __init__(self, controller: str, settings: dict[str, str]):
        self.path = os.path.join(CGROUP_V1, controller, f"colab-guard-bench-{uuid.uuid4().hex[:8]}")
        os.mkdir(self.path)
        for name, value in settings.items():
            with open(os.path.join(self.path, name), "w") as f:
                f.write(value)

    def add(self, pid: int) -> None:
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as f:
            return f.read()

    def remove(self) -> None:
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)
        print(f"could not remove {self.path}", file=sys.stderr)


@contextlib.contextmanager
def kernel_in_cgroup(limit: int, directory: str, notebook: str, **settings: object) -> Iterator[tuple[Kernel, str]]:
    """A real kernel with the watcher in a fresh cgroup v1 memory cgroup of ``limit`` bytes, with its
    own snapshot dir under ``directory``: (kernel, snapshot dir), all removed afterwards."""
    snapshot_dir = tempfile.mkdtemp(dir=directory)
    memory = Cgroup("memory", {"memory.limit_in_bytes": str(limit)})
    kernel = Kernel(snapshot_dir, notebook, **settings)
    try:
        memory.add(kernel.pid)
        time.sleep(1.5)  # the watcher reads its new cgroup
        yield kernel, snapshot_dir
    finally:
        kernel.stop()
        memory.remove()
        shutil.rmtree(snapshot_dir, ignore_errors=True)


def throttle_settings(path: str, bytes_per_second: int) -> dict[str, str]:
    """blkio settings that throttle writes to the disk holding ``path``."""
    device = os.stat(path).st_dev
    return {"blkio.throttle.write_bps_device": f"{os.major(device)}:{os.minor(device)} {bytes_per_second}"}


def child_in_cgroup(code: str, *args: str, limit: int = 64 << 30) -> dict:
    """Run ``code`` in a fresh Python given its memory cgroup's path and ``args``; its last line of
    output, as JSON. The child joins the cgroup itself; RuntimeError with its last error line."""
    group = Cgroup("memory", {"memory.limit_in_bytes": str(limit)})
    try:
        done = subprocess.run([sys.executable, "-c", code, group.path, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        group.remove()
