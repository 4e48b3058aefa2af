"""Snapshots taken while a cell changes the variables: nothing that existed before is lost, and a
snapshot with nothing new takes no kept slot."""

import numpy as np
import pytest

from colab_guard.snapshot import list_snapshots, restore_snapshot, take_snapshot
from colab_guard.snapshot.choose import nbytes_of
from colab_guard.snapshot.writer import NothingToSave

NB = "work/run_all.ipynb"


class GrowsWhilePickled:
    """Adds an entry to the dict it lives in each time it is pickled: a cell adding to the dict
    while the snapshot reads it, deterministically."""

    def __init__(self, target: dict):
        self.target = target

    def __reduce__(self):
        self.target[f"added-{len(self.target)}"] = 0
        return (int, (7,))


class CountsPickles:
    """Counts how often a snapshot pickled it."""

    times = 0

    def __reduce__(self):
        CountsPickles.times += 1
        return (int, (1,))


class Records(dict):
    """A dict subclass: no built-in one-step copy exists for it."""


def test_a_dict_growing_while_saved_is_saved_as_one_moment(tmp_path):
    # Given a dict that the running cell grows while the snapshot pickles it
    table = {"a": 1}
    table["grower"] = GrowsWhilePickled(table)
    # When a snapshot is taken
    result = take_snapshot({"table": table, "other": [1, 2]}, str(tmp_path), NB)
    # Then it is saved (a copy taken in one step), not skipped
    assert "table" in result.variables and "table" not in result.skipped, result.skipped
    assert result.manifest["variables"]["table"]["frozen_copy"] is True
    out = {}
    restore_snapshot(out, str(tmp_path), NB)
    assert out["table"]["a"] == 1 and out["table"]["grower"] == 7 and out["other"] == [1, 2]


def test_while_a_cell_runs_a_container_is_copied_before_it_is_written_not_after_a_failed_try(tmp_path):
    # Given a dict that the running cell grows while the snapshot pickles it
    table = {"counter": CountsPickles()}
    table["grower"] = GrowsWhilePickled(table)
    CountsPickles.times = 0
    # When a snapshot is taken while the cell runs
    result = take_snapshot({"table": table}, str(tmp_path), NB, live=True)
    # Then it is written once, from a copy of one moment (a failed first try would pickle it twice)
    assert CountsPickles.times == 1 and result.manifest["variables"]["table"]["frozen_copy"] is True


def test_the_size_of_a_large_container_counts_its_newest_items():
    # Given a dict of 200,000 small items to which a running cell appended 30 arrays of 8 MB
    table = {f"row-{i}": i for i in range(200_000)}
    for i in range(30):
        table[f"grow-{i}"] = np.ones(1 << 20)
    # Then its measured size holds the arrays (a spread sample of 1,000 items misses them)
    assert 250e6 <= nbytes_of(table) <= 280e6
    # And a list's sample is not skewed by its large newest items either
    items = [0] * 200_000 + [np.ones(1 << 20)] * 3
    assert 30e6 <= nbytes_of(items) <= 34e6


def test_a_variable_that_cannot_be_saved_now_is_kept_from_the_earlier_snapshot(tmp_path):
    # Given a snapshot that saved `records` and `steps`
    records = Records(user1={"n": 1})
    take_snapshot({"records": records, "steps": 1}, str(tmp_path), NB, keep=1)
    # When the running cell keeps changing `records` through every later try (three snapshots, keep 1)
    records["grower"] = GrowsWhilePickled(records)
    for steps in (2, 3, 4):
        # (a new variable that sorts first: `records` sits in another group than before)
        result = take_snapshot({"added": steps, "records": records, "steps": steps}, str(tmp_path), NB, keep=1)
        assert "records" in result.variables and "records" not in result.skipped, result.skipped
    # Then the only snapshot kept still has `records`, as it was when it last could be saved,
    # and restore says which moment each variable comes from
    (snap,) = list_snapshots(str(tmp_path), NB)
    out = {}
    report = restore_snapshot(out, str(tmp_path), NB)
    assert dict(out["records"]) == {"user1": {"n": 1}} and out["steps"] == 4
    assert any(note.startswith("records is as it was at ") for note in report.notes), report.notes
    assert snap["variables"]["records"]["from_snapshot"] < snap["id"]


def test_a_snapshot_with_nothing_new_takes_no_slot(tmp_path):
    first = take_snapshot({"x": list(range(1000)), "y": "text"}, str(tmp_path), NB, keep=3)
    again = take_snapshot({"x": list(range(1000)), "y": "text"}, str(tmp_path), NB, keep=3)
    assert again.unchanged and again.id == first.id
    assert [s["id"] for s in list_snapshots(str(tmp_path), NB)] == [first.id]
    changed = take_snapshot({"x": list(range(1001)), "y": "text"}, str(tmp_path), NB, keep=3)
    assert not changed.unchanged and len(list_snapshots(str(tmp_path), NB)) == 2


def test_an_empty_namespace_makes_no_snapshot(tmp_path):
    with pytest.raises(NothingToSave, match="no variable to save"):
        take_snapshot({"_hidden": 1}, str(tmp_path), NB)
    assert list_snapshots(str(tmp_path), NB) == []


def test_records_shared_between_variables_and_across_parts_stay_shared(tmp_path):
    # Given 60,000 records (pickled in parts) and an index holding every tenth of them
    records = [{"user": f"user-{i:08d}", "n": i, "tags": ["a", "b"]} for i in range(60_000)]
    index = {r["user"]: r for r in records[::10]}
    pairs = [records[5], records[50_005]]  # a small list sharing records from different parts
    twice = [records[7]] * 20_000  # one record many times over, across parts of one container
    result = take_snapshot({"records": records, "index": index, "pairs": pairs, "twice": twice}, str(tmp_path), NB)
    # Then they were saved together, and after restore they are the same objects again
    groups = {tuple(g["names"]) for g in result.manifest["groups"].values()}
    assert ("index", "pairs", "records", "twice") in groups, groups
    out = {}
    restore_snapshot(out, str(tmp_path), NB)
    assert out["index"]["user-00000010"] is out["records"][10]
    assert out["index"]["user-00059990"] is out["records"][59_990]
    assert out["pairs"][0] is out["records"][5] and out["pairs"][1] is out["records"][50_005]
    assert all(r is out["records"][7] for r in out["twice"])
    assert out["records"] == records and out["records"][10] is not records[10]
