"""The server's snapshot list: many requests that miss the cache at once read the disk once."""

import threading
import time

from colab_guard.server import snapshot_list
from colab_guard.snapshot import take_snapshot


def test_concurrent_misses_read_the_disk_once(tmp_path, monkeypatch):
    # Given two real snapshots, and a disk slow enough that eight requests overlap on a miss
    for n in (1, 2):
        take_snapshot({"n": n}, str(tmp_path), f"nb{n}.ipynb")
    reads = []
    real = snapshot_list.list_snapshots

    def slow_read(*args, **kwargs):
        reads.append(threading.get_ident())
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(snapshot_list, "list_snapshots", slow_read)
    listing = snapshot_list.SnapshotList(str(tmp_path))
    results: list[list[dict]] = []
    threads = [threading.Thread(target=lambda: results.append(listing.get())) for _ in range(8)]
    # When they all ask at once
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # Then one of them read the disk and all got its answer
    assert len(reads) == 1 and len(results) == 8
    assert all(r == results[0] for r in results) and len(results[0]) == 2
    # And after a delete the next request reads again
    listing.forget()
    assert len(listing.get()) == 2 and len(reads) == 2
