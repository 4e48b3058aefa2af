"""The watcher's decisions, driven by a cgroup v2 file tree whose memory.current the test moves."""

import os

from helpers import Container

from colab_guard.contract.heartbeat import read_heartbeat
from colab_guard.contract.settings import WatcherSettings
from colab_guard.kernel.cells import CellLog
from colab_guard.kernel.watcher import Watcher
from colab_guard.snapshot import list_snapshots

GiB = 1 << 30


def step(watcher):
    """One reading, and the snapshot it may have started on its own thread.

    The test sets memory levels a few ms apart: no growth rate is measured from them (it would be
    tens of GB/s, and start a snapshot by the deadline whenever the machine is slow enough for two
    readings to be 50 ms apart); the tests of growth are in test_snapshot_race and test_colab.
    """
    watcher.growth.samples.clear()
    watcher.sustained.samples.clear()
    watcher.check()
    watcher.wait_snapshot()


def make_watcher(tmp_path, namespace):
    box = Container(tmp_path)
    messages = []
    watcher = Watcher(
        namespace,
        WatcherSettings(notebook="w.ipynb", heartbeat_interval=0),
        str(tmp_path / "snaps"),
        notify=lambda level, message: messages.append((level, message)),
        reader=box.reader(),
    )
    return box, watcher, messages


def test_warns_once_per_episode_then_snapshots_at_the_snapshot_level(tmp_path):
    ns = {"data": list(range(1000))}
    box, watcher, messages = make_watcher(tmp_path, ns)
    box.use(50)
    step(watcher)
    assert messages == [] and list_snapshots(watcher.snapshot_dir) == []
    # crossing 75 %: one warning, with the figures and the source of the limit
    box.use(78)
    step(watcher)
    step(watcher)
    assert len(messages) == 1 and messages[0][0] == "warning"
    assert "3.1 of 4.0 GiB (78%, limit from cgroup-v2)" in messages[0][1]
    # crossing 85 %: a snapshot, and the user is told
    box.use(86)
    step(watcher)
    (snap,) = list_snapshots(watcher.snapshot_dir, "w.ipynb")
    assert snap["reason"] == "memory at 86% of the limit" and snap["memory"]["limit"] == 4 * GiB
    assert "saved 1 variables" in messages[-1][1] and "%guard restore" in messages[-1][1]


def test_snapshots_again_only_when_memory_climbs_and_the_namespace_changed(tmp_path):
    ns = {"a": 1}
    box, watcher, _ = make_watcher(tmp_path, ns)
    box.use(86)
    step(watcher)
    box.use(93)
    watcher.check()  # higher, but nothing new to save
    assert len(list_snapshots(watcher.snapshot_dir, "w.ipynb")) == 1
    ns["b"] = 2
    box.use(88)
    watcher.check()  # changed, but not higher than the last snapshot by 5 points
    assert len(list_snapshots(watcher.snapshot_dir, "w.ipynb")) == 1
    box.use(92)
    step(watcher)
    assert len(list_snapshots(watcher.snapshot_dir, "w.ipynb")) == 2
    # below the warning level the episode ends: the next crossing snapshots again at once,
    # though a snapshot with nothing new takes no kept slot (the newest one stands)
    box.use(40)
    step(watcher)
    box.use(86)
    step(watcher)
    assert len(list_snapshots(watcher.snapshot_dir, "w.ipynb")) == 2 and watcher.last_snapshot.unchanged
    ns["c"] = 3
    box.use(40)
    step(watcher)
    box.use(86)
    step(watcher)
    assert len(list_snapshots(watcher.snapshot_dir, "w.ipynb")) == 3


def test_heartbeat_has_what_a_post_mortem_needs(tmp_path):
    box, watcher, _ = make_watcher(tmp_path, {"x": 1})  # an empty namespace makes no snapshot
    box.use(90)
    step(watcher)
    beat = read_heartbeat(watcher.snapshot_dir, "w.ipynb")
    assert beat["pid"] == os.getpid() and beat["clean_exit"] is False
    assert beat["limit"] == 4 * GiB and beat["percent"] == 90.0
    assert beat["cgroup_version"] == "v2" and beat["cgroup_path"].endswith("/sys") and beat["oom_kills"] == 0
    assert beat["last_snapshot"] is not None
    watcher.stop(clean=True)
    assert read_heartbeat(watcher.snapshot_dir, "w.ipynb")["clean_exit"] is True


def test_the_thread_samples_fast_past_the_warning_level(tmp_path):
    box, watcher, _ = make_watcher(tmp_path, {})
    watcher.settings.interval, watcher.settings.fast_interval = 1.0, 0.05
    box.use(80)
    watcher.start()
    try:
        import time

        time.sleep(0.6)
        beat = read_heartbeat(watcher.snapshot_dir, "w.ipynb")
        assert time.time() - beat["time"] < 0.3  # rewritten at the fast pace
    finally:
        watcher.stop()


class HidesItsSize:
    """An object whose memory no size measure sees (as a DataFrame's row strings are missed)."""

    def __init__(self, nbytes):
        self.payload = bytearray(nbytes)

    def __sizeof__(self):
        return 64


def test_a_snapshot_is_expected_to_write_at_least_what_the_running_cell_added(tmp_path):
    # Given a running cell that has added 200 MB to this process, into an object whose size is hidden
    namespace = {}
    box, watcher, _ = make_watcher(tmp_path, namespace)
    watcher.cells = CellLog(lambda: None)
    watcher.cells.start(1, "x = HidesItsSize(200 << 20)")
    namespace["x"] = HidesItsSize(200 << 20)
    namespace["x"].payload[::4096] = b"\1" * len(range(0, 200 << 20, 4096))  # touched: resident
    # Then the snapshot's expected size counts what the cell added, not only the measured sizes
    assert watcher._variables_bytes() < 1 << 20
    assert watcher._estimated_bytes() >= 190 << 20
    # And once the cell ended, only the variables' sizes count
    watcher.cells.finish(1)
    assert watcher._estimated_bytes() < 1 << 20


def test_background_snapshots_follow_the_cell_state_the_kernels_hooks_set(tmp_path):
    # Given a watcher whose namespace changed, with background snapshots due at once when idle
    box, watcher, _ = make_watcher(tmp_path, {"x": [1, 2, 3]})
    watcher.settings.background_idle = watcher.settings.background_interval = 0.0
    watcher.cell_finished()
    # When a cell runs (the hooks replace the cell state, as Guard's pre_run_cell does)
    watcher.cell_state = {"executing": True, "idle_since": None}
    # Then no background snapshot starts under it
    assert not watcher.snapshots.background_due()
    # And once the cell ended, one is due
    import time

    watcher.cell_state = {"executing": False, "idle_since": time.time() - 10}
    assert watcher.snapshots.background_due()
