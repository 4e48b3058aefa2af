"""Real cgroup v1 cgroups for the tests and the benchmarks: created under their controller, removed after."""

import os
import time
import uuid

import pytest

CGROUP_V1 = "/sys/fs/cgroup"
V1_MEMORY = os.path.join(CGROUP_V1, "memory")


class Cgroup:
    """A real cgroup v1 child of one controller (memory, blkio), with its settings; processes join
    with ``add``; ``remove`` waits for the last to exit. The tests' and the benchmarks' one helper."""

    def __init__(self, controller: str, settings: dict[str, str], prefix: str = "colab-guard-test"):
        self.path = os.path.join(CGROUP_V1, controller, f"{prefix}-{uuid.uuid4().hex[:8]}")
        os.mkdir(self.path)
        try:
            for name, value in settings.items():
                self.write(name, value)
        except OSError:
            os.rmdir(self.path)  # a setting this controller refuses: nothing left behind
            raise
        self.procs = os.path.join(self.path, "cgroup.procs")

    def add(self, pid: int) -> None:
        self.write("cgroup.procs", str(pid))

    def write(self, name: str, value: str) -> None:
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as f:
            return f.read()

    def stat(self) -> dict:
        return {k: int(v) for k, v in (line.split() for line in self.read("memory.stat").splitlines())}

    def remove(self) -> None:
        for _ in range(100):  # the cgroup can be removed once its last process has exited
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


def memory_limited(limit: int, prefix: str = "colab-guard-test") -> Cgroup:
    """A memory cgroup with a limit of ``limit`` bytes."""
    return Cgroup("memory", {"memory.limit_in_bytes": str(limit)}, prefix)


def write_throttled(path: str, bytes_per_second: int, prefix: str = "colab-guard-test") -> Cgroup:
    """A blkio cgroup throttling writes to the disk holding ``path``."""
    device = os.stat(path).st_dev
    return Cgroup(
        "blkio", {"blkio.throttle.write_bps_device": f"{os.major(device)}:{os.minor(device)} {bytes_per_second}"}, prefix
    )


@pytest.fixture
def memory_cgroup():
    """Factory of real memory cgroups; skips with the reason where none can be created."""
    made = []

    def make(limit: int) -> Cgroup:
        if not os.path.isfile(os.path.join(V1_MEMORY, "memory.limit_in_bytes")):
            pytest.skip(f"no cgroup v1 memory controller mounted at {V1_MEMORY}")
        try:
            group = memory_limited(limit)
        except OSError as exc:
            pytest.skip(f"cannot create a memory cgroup here ({exc}); needs root and a writable controller")
        made.append(group)
        return group

    yield make
    for group in made:
        group.remove()


@pytest.fixture
def slow_disk():
    """Factory: a real blkio cgroup throttling writes to the disk under a path (a Drive-like speed).

    Returns a function ``(path, bytes_per_second) -> procs file``: write a pid there to throttle it.
    """
    made = []

    def make(path: str, bytes_per_second: int) -> str:
        try:
            group = write_throttled(path, bytes_per_second)
        except OSError as exc:
            pytest.skip(f"cannot throttle the disk under {path} with a blkio cgroup ({exc})")
        made.append(group)
        return group.procs

    yield make
    for group in made:
        group.remove()
