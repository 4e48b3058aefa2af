"""A real cgroup v1 memory cgroup for tests: created under the memory controller, removed after."""

import os
import time
import uuid

import pytest

V1_MEMORY = "/sys/fs/cgroup/memory"


class MemoryCgroup:
    """A child memory cgroup with a limit; processes join by writing their pid to ``procs``."""

    def __init__(self, limit: int):
        self.path = os.path.join(V1_MEMORY, f"colab-guard-test-{uuid.uuid4().hex[:8]}")
        os.mkdir(self.path)
        self.write("memory.limit_in_bytes", str(limit))
        self.procs = os.path.join(self.path, "cgroup.procs")

    def write(self, name: str, value: str) -> None:
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as f:
            return f.read()

    def stat(self) -> dict:
        return {k: int(v) for k, v in (line.split() for line in self.read("memory.stat").splitlines())}

    def remove(self) -> None:
        for _ in range(50):  # the cgroup can be removed once its last process has exited
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


@pytest.fixture
def memory_cgroup():
    """Factory of real memory cgroups; skips with the reason where none can be created."""
    made = []

    def make(limit: int) -> MemoryCgroup:
        if not os.path.isfile(os.path.join(V1_MEMORY, "memory.limit_in_bytes")):
            pytest.skip(f"no cgroup v1 memory controller mounted at {V1_MEMORY}")
        try:
            group = MemoryCgroup(limit)
        except OSError as exc:
            pytest.skip(f"cannot create a memory cgroup here ({exc}); needs root and a writable controller")
        made.append(group)
        return group

    yield make
    for group in made:
        group.remove()


V1_BLKIO = "/sys/fs/cgroup/blkio"


@pytest.fixture
def slow_disk():
    """Factory: a real blkio cgroup throttling writes to the disk under a path (a Drive-like speed).

    Returns a function ``(path, bytes_per_second) -> procs file``: write a pid there to throttle it.
    """
    made = []

    def make(path: str, bytes_per_second: int) -> str:
        device = os.stat(path).st_dev
        group = os.path.join(V1_BLKIO, f"colab-guard-test-{uuid.uuid4().hex[:8]}")
        try:
            os.mkdir(group)
            made.append(group)
            with open(os.path.join(group, "blkio.throttle.write_bps_device"), "w") as f:
                f.write(f"{os.major(device)}:{os.minor(device)} {bytes_per_second}")
        except OSError as exc:
            pytest.skip(f"cannot throttle the disk under {path} with a blkio cgroup ({exc})")
        return os.path.join(group, "cgroup.procs")

    yield make
    for group in made:
        for _ in range(50):
            try:
                os.rmdir(group)
                break
            except OSError:
                time.sleep(0.1)
