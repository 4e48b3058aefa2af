"""The memory reader inside a real cgroup v1 memory cgroup with a real limit."""

import json
import subprocess
import sys
import textwrap

import pytest

MiB = 1 << 20

# Runs inside the cgroup: joins it first, allocates and touches 64 MiB, then reads the cgroup
# itself (what the kernel would count) and through colab-guard's reader, back to back.
CHILD = textwrap.dedent(
    """
    import json, os, sys
    with open(sys.argv[1], "w") as f:
        f.write(str(os.getpid()))
    block = bytearray(64 << 20)
    block[::4096] = b"x" * len(block[::4096])
    from colab_guard.readers.memory import MemoryReader
    reading = MemoryReader(env={}).read()
    base = os.path.dirname(sys.argv[1])
    usage = int(open(os.path.join(base, "memory.usage_in_bytes")).read())
    stat = dict(l.split() for l in open(os.path.join(base, "memory.stat")))
    print(json.dumps({"reading": reading.to_dict(), "usage": usage,
                      "inactive": int(stat["total_inactive_file"])}))
    """
)


@pytest.mark.cgroup
def test_reported_limit_and_working_set_match_the_real_cgroup(memory_cgroup):
    # Given a real cgroup limited to 200 MiB, and a process in it holding 64 MiB
    group = memory_cgroup(200 * MiB)
    out = subprocess.run([sys.executable, "-c", CHILD, group.procs], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    reading = result["reading"]
    # Then colab-guard reports the real limit, from the v1 cgroup
    assert (reading["limit"], reading["limit_source"]) == (200 * MiB, "cgroup-v1")
    assert reading["cgroup"]["path"] == group.path
    # And the working set the kernel counts (usage - inactive file), to within what moved in between
    assert abs(reading["working_set"] - (result["usage"] - result["inactive"])) < 4 * MiB
    assert reading["working_set"] >= 64 * MiB
    assert reading["percent"] == pytest.approx(100 * reading["working_set"] / (200 * MiB), abs=0.01)
    assert reading["cgroup"]["oom_kills"] == 0
