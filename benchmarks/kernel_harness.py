"""Real ipykernels with colab-guard's watcher, for the benchmarks: started as the server starts them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

# the tests' one kernel driver and one cgroup helper
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from cgroup_helpers import CGROUP_V1, Cgroup, memory_limited, write_throttled  # noqa: F401 - for the benchmarks
from kernel_driver import LocalKernel

from colab_guard.contract.channels import NOTEBOOK_VARIABLES
from colab_guard.contract.settings import WatcherSettings

BENCH = "colab-guard-bench"  # the cgroups' prefix


class Kernel(LocalKernel):
    """A real ipykernel with ``--ext=colab_guard`` and the watcher's settings in its environment,
    as a colab-guard server starts it."""

    def __init__(self, snapshot_dir: str, notebook: str, cgroup=None, **settings: object):
        # the environment a server hands its kernels, through the settings' own codec
        watcher = WatcherSettings.from_env({}, remembered=False).with_values({"snapshot_dir": snapshot_dir, **settings})
        env = {**os.environ, **watcher.to_env(), NOTEBOOK_VARIABLES[0]: notebook}
        super().__init__(env, extra_arguments=("--ext=colab_guard",), cgroup=cgroup)


@contextlib.contextmanager
def kernel_in_cgroup(limit: int, directory: str, notebook: str, **settings: object) -> Iterator[tuple[Kernel, str]]:
    """A real kernel with the watcher in a fresh cgroup v1 memory cgroup of ``limit`` bytes, with its
    own snapshot dir under ``directory``: (kernel, snapshot dir), all removed afterwards."""
    snapshot_dir = tempfile.mkdtemp(dir=directory)
    memory = memory_limited(limit, BENCH)
    kernel = Kernel(snapshot_dir, notebook, **settings)
    try:
        memory.add(kernel.pid)
        time.sleep(1.5)  # the watcher reads its new cgroup
        yield kernel, snapshot_dir
    finally:
        kernel.stop()
        memory.remove()
        shutil.rmtree(snapshot_dir, ignore_errors=True)


def child_in_cgroup(code: str, *args: str, limit: int = 64 << 30) -> dict:
    """Run ``code`` in a fresh Python given its memory cgroup's path and ``args``; its last line of
    output, as JSON. The child joins the cgroup itself; RuntimeError with its last error line."""
    group = memory_limited(limit, BENCH)
    try:
        done = subprocess.run([sys.executable, "-c", code, group.path, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        group.remove()
