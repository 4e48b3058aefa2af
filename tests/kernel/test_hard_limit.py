"""The optional data-size limit: one allocation too big for the container becomes a MemoryError."""

import os
import subprocess
import sys
import textwrap

import pytest

# In a fresh IPython with the extension loaded, in its own 1 GiB memory cgroup.
CELLS = textwrap.dedent(
    """
    import time, numpy as np
    time.sleep(1.5)  # the watcher has read memory and set the limit
    try:
        np.ones((2 << 30) // 8)
        print("ALLOCATED 2 GiB")
    except MemoryError as exc:
        print("MEMORYERROR", exc)
    small = np.ones((64 << 20) // 8)
    print("SMALL OK", small.nbytes)
    """
)


def run(env_extra, tmp_path, group):
    env = {"COLAB_GUARD_SNAPSHOT_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", **env_extra}
    script = tmp_path / "cells.ipy"
    script.write_text(CELLS)

    def join_cgroup():  # in the child, before Python starts: everything it allocates is charged there
        with open(group.procs, "w") as f:
            f.write(str(os.getpid()))

    return subprocess.run(
        [sys.executable, "-m", "IPython", "--ext=colab_guard", "--no-banner", "--quick", str(script)],
        capture_output=True, text=True, timeout=120, env=env, preexec_fn=join_cgroup,
    )  # fmt: skip


@pytest.mark.cgroup
def test_too_big_allocation_is_a_memory_error_with_the_hard_limit(tmp_path, memory_cgroup):
    out = run({"COLAB_GUARD_HARD_LIMIT": "1"}, tmp_path, memory_cgroup(1 << 30))
    assert "MEMORYERROR Unable to allocate 2.00 GiB" in out.stdout, out.stdout + out.stderr
    assert "SMALL OK 67108864" in out.stdout


@pytest.mark.cgroup
def test_without_it_the_allocation_summons_the_oom_killer(tmp_path, memory_cgroup):
    group = memory_cgroup(1 << 30)
    out = run({}, tmp_path, group)
    assert out.returncode == -9 and "MEMORYERROR" not in out.stdout, out.stdout + out.stderr
    assert "oom_kill 1" in group.read("memory.oom_control")
