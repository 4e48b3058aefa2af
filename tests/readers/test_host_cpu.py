"""A process's CPU from its own times, and its threads' demand only where schedstat really counts."""

import os
import threading
import time

import pytest
from helpers import write_tree

from colab_guard.readers.host import ProcessCpu, thread_demand


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def zeroed_proc(tmp_path) -> str:
    """A /proc whose kernel keeps schedstat files but never counts (as some kernels and sandboxes do)."""
    tids = os.listdir(f"/proc/{os.getpid()}/task")
    return write_tree(tmp_path, {f"{os.getpid()}/task/{tid}/schedstat": "0 0 1\n" for tid in tids})


def test_schedstat_of_zeros_is_no_statistics(tmp_path):
    assert thread_demand(os.getpid(), zeroed_proc(tmp_path)) == {}


def test_cpu_is_measured_from_the_process_times_where_schedstat_is_empty(tmp_path):
    # Given a kernel that reports zeros in schedstat
    meter = ProcessCpu(os.getpid(), zeroed_proc(tmp_path))
    meter.read()
    # When this process keeps a core busy
    spin(0.5)
    reading = meter.read()
    # Then its CPU is known from its own times, and what it wanted is said to be unknown
    assert reading["cpu"] >= 60, reading
    assert reading["cpu_demand"] is None, reading


def test_schedstat_far_behind_the_process_times_is_no_statistics(tmp_path):
    # Given a kernel whose schedstat barely moves for a thread that keeps running (updated rarely)
    tids = os.listdir(f"/proc/{os.getpid()}/task")
    root = write_tree(tmp_path, {f"{os.getpid()}/task/{tid}/schedstat": "1000000 0 1\n" for tid in tids})
    meter = ProcessCpu(os.getpid(), root)
    meter.read()
    # When this process keeps a core busy while the statistics add 2 ms
    spin(0.5)
    write_tree(tmp_path, {f"{os.getpid()}/task/{tid}/schedstat": "3000000 0 2\n" for tid in tids})
    reading = meter.read()
    # Then the CPU is the process's own, and the demand unknown (not "1 % of a core")
    assert reading["cpu"] >= 60 and reading["cpu_demand"] is None, reading


def test_demand_is_the_busiest_threads_where_schedstat_counts():
    if not thread_demand(os.getpid()):
        pytest.skip("this machine's kernel keeps no scheduler statistics")
    # a thread that is still spinning when read (the demand is of the threads alive at each reading)
    worker = threading.Thread(target=spin, args=(1.0,))
    worker.start()
    meter = ProcessCpu()
    meter.read()
    time.sleep(0.5)
    reading = meter.read()
    worker.join()
    if reading["cpu_demand"] is None:  # counted, but far below the CPU the process used
        pytest.skip(f"this machine's kernel does not keep its scheduler statistics current: {reading}")
    assert reading["cpu_demand"] >= 60 and reading["cpu"] >= 60, reading
