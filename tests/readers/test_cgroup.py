"""The cgroup readers against v1 and v2 file trees laid out in temporary dirs."""

import pytest
from helpers import write_tree

from colab_guard.readers import cgroup as cg
from colab_guard.readers.memory import MemoryReader

GiB = 1 << 30
MEMINFO = "MemTotal:       32768000 kB\nMemFree:        1000000 kB\nMemAvailable:   30000000 kB\n"


def v2_tree(tmp_path, memory_max="max", parent_max=None, cpu_max="max 100000"):
    files = {
        "proc/self/cgroup": "0::/kubepods/pod1/ctr\n",
        "proc/meminfo": MEMINFO,
        "sys/cgroup.controllers": "cpuset cpu io memory pids\n",
        "sys/kubepods/pod1/ctr/memory.max": f"{memory_max}\n",
        "sys/kubepods/pod1/ctr/memory.current": f"{3 * GiB}\n",
        "sys/kubepods/pod1/ctr/memory.stat": f"anon {2 * GiB}\nfile {GiB}\nactive_file {GiB // 2}\ninactive_file {GiB // 4}\n",
        "sys/kubepods/pod1/ctr/memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n",
        "sys/kubepods/pod1/ctr/memory.peak": f"{5 * GiB}\n",
        "sys/kubepods/pod1/ctr/cpu.max": f"{cpu_max}\n",
    }
    if parent_max is not None:
        files["sys/kubepods/pod1/memory.max"] = f"{parent_max}\n"
    return write_tree(tmp_path, files)


def v1_tree(tmp_path, limit=8 * GiB, hierarchical=None, in_namespace=False):
    rel = "" if in_namespace else "docker/abc/"
    files = {
        "proc/self/cgroup": "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
        "proc/meminfo": MEMINFO,
        f"sys/memory/{rel}memory.limit_in_bytes": f"{limit}\n",
        f"sys/memory/{rel}memory.usage_in_bytes": f"{3 * GiB}\n",
        f"sys/memory/{rel}memory.max_usage_in_bytes": f"{4 * GiB}\n",
        f"sys/memory/{rel}memory.stat": (
            f"cache {GiB}\nrss {2 * GiB}\ninactive_file 999\n"
            f"hierarchical_memory_limit {hierarchical if hierarchical is not None else limit}\n"
            f"total_inactive_file {GiB // 2}\n"
        ),
        f"sys/memory/{rel}memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        f"sys/cpu,cpuacct/{rel}cpu.cfs_quota_us": "150000\n",
        f"sys/cpu,cpuacct/{rel}cpu.cfs_period_us": "100000\n",
    }
    return write_tree(tmp_path, files)


def reader(root, **kw):
    return MemoryReader(cgroup_root=f"{root}/sys", proc_root=f"{root}/proc", env=kw.pop("env", {}), **kw)


def test_v2_limited_reports_limit_and_kubelet_working_set(tmp_path):
    # Given a cgroup v2 container limited to 4 GiB with 1/4 GiB of inactive file cache
    root = v2_tree(tmp_path, memory_max=4 * GiB)
    # When it is read
    m = reader(root).read()
    # Then the limit is the cgroup's and the working set is usage minus inactive_file
    assert (m.limit, m.limit_source) == (4 * GiB, "cgroup-v2")
    assert m.usage == 3 * GiB
    assert m.working_set == 3 * GiB - GiB // 4
    assert m.headroom == 4 * GiB - m.working_set
    assert m.percent == pytest.approx(100 * (3 * GiB - GiB // 4) / (4 * GiB), abs=0.01)
    assert m.cgroup["oom_kills"] == 1 and m.cgroup["peak"] == 5 * GiB
    # And the host figures still come from meminfo
    assert m.total == 32768000 * 1024 and m.available == 30000000 * 1024


def test_v2_unlimited_means_host_total(tmp_path):
    root = v2_tree(tmp_path, memory_max="max")
    m = reader(root).read()
    assert (m.limit, m.limit_source) == (32768000 * 1024, "host")
    assert m.working_set == 3 * GiB - GiB // 4  # still the container's own working set


def test_v2_parent_limit_binds_the_child(tmp_path):
    # Given a pod-level limit of 2 GiB above an unlimited container
    root = v2_tree(tmp_path, memory_max="max", parent_max=2 * GiB)
    assert reader(root).read().limit == 2 * GiB


def test_v2_without_memory_controller_falls_back_to_v1(tmp_path):
    # Given a hybrid host: v2 mounted under unified but without the memory controller, v1 memory present
    root = v1_tree(tmp_path)
    write_tree(tmp_path, {"sys/unified/cgroup.controllers": "cpu io pids\n"})
    group = cg.find_cgroup("memory", f"{root}/sys", f"{root}/proc/self")
    assert group.version == "v1" and group.path.endswith("memory/docker/abc")


def test_v1_limited(tmp_path):
    root = v1_tree(tmp_path, limit=8 * GiB)
    m = reader(root).read()
    assert (m.limit, m.limit_source) == (8 * GiB, "cgroup-v1")
    # total_inactive_file (hierarchical) is what kubelet subtracts on v1, not inactive_file
    assert m.working_set == 3 * GiB - GiB // 2
    assert m.cgroup["oom_kills"] == 2 and m.cgroup["peak"] == 4 * GiB


def test_v1_huge_number_means_no_limit(tmp_path):
    root = v1_tree(tmp_path, limit=9223372036854771712)
    m = reader(root).read()
    assert m.limit_source == "host" and m.limit == 32768000 * 1024
    assert m.cgroup["limit"] is None


def test_v1_hierarchical_limit_from_an_ancestor(tmp_path):
    root = v1_tree(tmp_path, limit=9223372036854771712, hierarchical=6 * GiB)
    assert reader(root).read().limit == 6 * GiB


def test_v1_in_a_cgroup_namespace_uses_the_mount_itself(tmp_path):
    # Given /proc/self/cgroup naming a path that only exists on the host, as inside a cgroup namespace
    root = v1_tree(tmp_path, limit=5 * GiB, in_namespace=True)
    m = reader(root).read()
    assert m.limit == 5 * GiB and m.cgroup["path"] == f"{root}/sys/memory"


def test_smallest_limit_wins_and_says_where_it_came_from(tmp_path):
    root = v1_tree(tmp_path, limit=8 * GiB)
    # MEM_LIMIT below the cgroup limit: the spawner's limit is the one users hit first
    assert reader(root, env={"MEM_LIMIT": str(2 * GiB)}).read().limit_source == "env"
    # an admin's setting below both wins
    m = reader(root, env={"MEM_LIMIT": str(2 * GiB)}, config_limit=GiB).read()
    assert (m.limit, m.limit_source) == (GiB, "config")
    # a MEM_LIMIT above the real cgroup limit does not hide it
    assert reader(root, env={"MEM_LIMIT": str(64 * GiB)}).read().limit_source == "cgroup-v1"
    # garbage in MEM_LIMIT is ignored rather than fatal
    assert reader(root, env={"MEM_LIMIT": "lots"}).read().limit_source == "cgroup-v1"


def test_no_cgroup_at_all_uses_host_and_env(tmp_path):
    root = write_tree(tmp_path, {"proc/self/cgroup": "", "proc/meminfo": MEMINFO, "sys/.keep": ""})
    m = reader(root).read()
    assert m.limit_source == "host" and m.cgroup is None
    assert m.working_set == m.used == (32768000 - 30000000) * 1024
    assert reader(root, env={"MEM_LIMIT": "4G"}).read().limit == 4 * GiB


def test_vanished_cgroup_is_reported_not_raised(tmp_path):
    # Given a cgroup that disappears between two reads
    root = v2_tree(tmp_path, memory_max=4 * GiB)
    r = reader(root)
    assert r.read().error is None
    (tmp_path / "sys/kubepods/pod1/ctr/memory.current").unlink()
    # When read again, the error is in the reading and the host limit is used meanwhile
    m = r.read()
    assert "memory.current" in m.error and m.limit_source == "host"
    # And it recovers when the file comes back
    (tmp_path / "sys/kubepods/pod1/ctr/memory.current").write_text(str(GiB))
    m = r.read()
    assert m.error is None and m.limit_source == "cgroup-v2"


@pytest.mark.parametrize("cpu_max, expected", [("max 100000", None), ("250000 100000", 2.5), ("50000 100000", 0.5)])
def test_v2_cpu_quota(tmp_path, cpu_max, expected):
    root = v2_tree(tmp_path, cpu_max=cpu_max)
    group = cg.find_cgroup("cpu", f"{root}/sys", f"{root}/proc/self")
    assert cg.read_cpu_quota(group) == expected


def test_v1_cpu_quota_in_the_combined_controller(tmp_path):
    root = v1_tree(tmp_path)
    group = cg.find_cgroup("cpu", f"{root}/sys", f"{root}/proc/self")
    assert group.version == "v1" and cg.read_cpu_quota(group) == 1.5
