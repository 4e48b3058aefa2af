"""Snapshots of real objects: exact round trips, aliasing, skipped variables, incremental writes, safety."""

import os
import socket
import stat
import threading
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from colab_guard.snapshot import SnapshotError, list_snapshots, restore_snapshot, take_snapshot

NB = "work/analysis.ipynb"


def roundtrip(tmp_path, namespace, **kw):
    result = take_snapshot(namespace, str(tmp_path), NB, **kw)
    restored = {}
    report = restore_snapshot(restored, str(tmp_path), NB)
    return result, restored, report


def test_numpy_arrays_of_every_layout(tmp_path):
    base = np.arange(60, dtype=np.float64).reshape(6, 10)
    ns = {
        "c": np.random.default_rng(0).random((300, 200)),
        "f": np.asfortranarray(np.random.default_rng(1).random((50, 40))),
        "strided": np.arange(1000)[::7],
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 3)),
        "dates": np.array(["2020-01-01", "2024-02-29"], dtype="datetime64[D]"),
        "structured": np.array([(1, 2.0), (3, 4.0)], dtype=[("a", "i4"), ("b", "f8")]),
        "flags": np.array([True, False, True]),
        "base": base,
        "view": base[1:5, ::3],
        "broadcast": np.broadcast_to(np.arange(4), (1000, 4)),
        "objects": np.array([{"k": 1}, None, "s"], dtype=object),
    }
    readonly = np.arange(10)
    readonly.flags.writeable = False
    ns["readonly"] = readonly
    _, out, report = roundtrip(tmp_path, ns)
    assert report.failed == {}
    for name, value in ns.items():
        assert type(out[name]) is type(value), name
        assert out[name].dtype == value.dtype, name
        assert out[name].shape == value.shape, name
        if value.dtype.hasobject:
            assert list(out[name]) == list(value)
        else:
            assert np.array_equal(out[name], value), name
    assert out["f"].flags.f_contiguous
    assert not out["readonly"].flags.writeable
    # the view still views its base: writing through one shows in the other
    assert np.shares_memory(out["view"], out["base"])
    out["view"][0, 0] = -1
    assert out["base"][1, 0] == -1


def test_pandas_objects(tmp_path):
    df = pd.DataFrame(
        {
            "x": np.arange(1000, dtype=np.int64),
            "y": np.random.default_rng(2).random(1000),
            "s": [f"row{i}" for i in range(1000)],
            "cat": pd.Categorical(["a", "b"] * 500),
            "t": pd.date_range("2026-01-01", periods=1000, freq="min"),
        }
    ).set_index("t")
    series = pd.Series([1.5, None, 3.0], name="vals")
    _, out, _ = roundtrip(tmp_path, {"df": df, "series": series})
    pd.testing.assert_frame_equal(out["df"], df)
    pd.testing.assert_series_equal(out["series"], series)


def test_torch_tensors_and_modules(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    t = torch.randn(64, 32)
    ns = {
        "t": t,
        "tv": t[:, 3:9],
        "half": torch.randn(5, 5).to(torch.bfloat16),
        "ints": torch.arange(100, dtype=torch.int32),
        "param": torch.nn.Parameter(torch.randn(3)),
        "frozen": torch.randn(3, requires_grad=False),
        "model": model,
        "state": model.state_dict(),
    }
    _, out, report = roundtrip(tmp_path, ns)
    assert report.failed == {}
    for name in ("t", "tv", "half", "ints", "frozen"):
        assert out[name].dtype == ns[name].dtype and torch.equal(out[name], ns[name]), name
    assert out["tv"].untyped_storage().data_ptr() == out["t"].untyped_storage().data_ptr()
    assert isinstance(out["param"], torch.nn.Parameter) and out["param"].requires_grad
    x = torch.randn(3, 8)
    assert torch.equal(out["model"](x), model(x))
    for key, value in model.state_dict().items():
        assert torch.equal(out["state"][key], value)


def test_aliases_survive(tmp_path):
    shared = [1, 2, 3]
    arr = np.arange(10)
    holder = {"arr": arr, "n": 1}
    _, out, _ = roundtrip(tmp_path, {"a": shared, "b": shared, "arr": arr, "holder": holder, "alone": "x"})
    assert out["a"] is out["b"]
    assert out["holder"]["arr"] is out["arr"]


def test_unsaveable_variables_are_skipped_with_reasons(tmp_path):
    sock = socket.socket()
    handle = open(__file__)
    try:
        ns = {
            "np": np,
            "gen": (i for i in range(3)),
            "lock": threading.Lock(),
            "sock": sock,
            "handle": handle,
            "fn": lambda x: x,
            "good": {"kept": [1, 2.5, "three"]},
        }
        result, out, report = roundtrip(tmp_path, ns)
    finally:
        sock.close()
        handle.close()
    assert out["good"] == ns["good"]
    assert out["np"] is np and report.modules == ["np"]
    assert set(result.skipped) == {"gen", "lock", "sock", "handle"}
    assert "generator" in result.skipped["gen"]
    assert "lock" in result.skipped["lock"]
    assert "open file, socket" in result.skipped["sock"] and "open file" in result.skipped["handle"]
    # a lambda is code, not state: it travels by value (it was skipped before cloudpickle)
    assert out["fn"](3) == 3


def test_second_snapshot_of_unchanged_data_writes_nothing(tmp_path):
    big = np.random.default_rng(3).random(2_000_000)
    small = {"step": 1}
    first = take_snapshot({"big": big, "small": small}, str(tmp_path), NB)
    assert first.bytes_written >= big.nbytes
    second = take_snapshot({"big": big, "small": small}, str(tmp_path), NB)
    assert second.bytes_written == 0 and second.bytes_reused == first.bytes_written
    # unchanged data is hard-linked, not copied
    g1 = first.manifest["variables"]["big"]["group"]
    g2 = second.manifest["variables"]["big"]["group"]
    assert os.stat(os.path.join(first.path, f"{g1}.dat")).st_ino == os.stat(os.path.join(second.path, f"{g2}.dat")).st_ino
    # a change in place is seen, and only that group is written again
    big[123_456] = -1.0
    third = take_snapshot({"big": big, "small": small}, str(tmp_path), NB)
    assert big.nbytes <= third.bytes_written < big.nbytes + 1_000_000
    out = {}
    restore_snapshot(out, str(tmp_path), NB)
    assert out["big"][123_456] == -1.0


def test_keeps_the_last_n_and_files_are_private(tmp_path):
    for i in range(5):
        take_snapshot({"i": i}, str(tmp_path), NB, keep=3)
    snaps = list_snapshots(str(tmp_path), NB)
    assert len(snaps) == 3
    out = {}
    restore_snapshot(out, str(tmp_path), NB)
    assert out["i"] == 4
    path = snaps[0]["_path"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    for name in os.listdir(path):
        assert stat.S_IMODE(os.stat(os.path.join(path, name)).st_mode) == 0o600


def test_restore_names_and_older_snapshots(tmp_path):
    take_snapshot({"a": 1, "b": 2}, str(tmp_path), NB)
    take_snapshot({"a": 10, "b": 20}, str(tmp_path), NB)
    older = list_snapshots(str(tmp_path), NB)[1]["id"]
    out = {}
    report = restore_snapshot(out, str(tmp_path), NB, snapshot=older, names=["a", "zzz"])
    assert out == {"a": 1}
    assert report.failed == {"zzz": "not in this snapshot"}
    with pytest.raises(SnapshotError, match="not found"):
        restore_snapshot({}, str(tmp_path), NB, snapshot="19990101")
    with pytest.raises(SnapshotError, match="no snapshot"):
        restore_snapshot({}, str(tmp_path), "other.ipynb")


def test_damaged_data_is_detected_not_loaded(tmp_path):
    result = take_snapshot({"arr": np.arange(100_000), "ok": [1]}, str(tmp_path), NB)
    gid = result.manifest["variables"]["arr"]["group"]
    with open(os.path.join(result.path, f"{gid}.dat"), "r+b") as f:
        f.seek(5000)
        f.write(b"\xff")
    out = {}
    report = restore_snapshot(out, str(tmp_path), NB)
    assert "checksum mismatch" in report.failed["arr"]
    assert out == {"ok": [1]}


def test_mmap_restore_is_lazy_and_private(tmp_path):
    arr = np.random.default_rng(4).random(1_000_000)
    result = take_snapshot({"arr": arr}, str(tmp_path), NB)
    out = {}
    restore_snapshot(out, str(tmp_path), NB, use_mmap=True)
    assert np.array_equal(out["arr"], arr)
    out["arr"][0] = 42.0  # writable, copy-on-write: the snapshot file is not changed
    again = {}
    restore_snapshot(again, str(tmp_path), NB)
    assert again["arr"][0] == arr[0]
    assert result.bytes_written >= arr.nbytes


def test_pickling_makes_no_copy_of_large_arrays(tmp_path):
    arrays = {f"a{i}": np.random.default_rng(i).random(4_000_000) for i in range(4)}  # 4 x 32 MB
    tracemalloc.start()
    try:
        take_snapshot(arrays, str(tmp_path), NB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"pickling allocated {peak >> 20} MiB for 128 MB of arrays"


def test_non_contiguous_arrays_are_written_in_bounded_chunks(tmp_path):
    base = np.random.default_rng(5).random((4000, 2000))  # 64 MB
    col = base[:, ::2]  # a 32 MB non-contiguous view...
    del base  # ...whose base is not itself a variable
    tracemalloc.start()
    try:
        take_snapshot({"col": col}, str(tmp_path), NB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 << 20
    out = {}
    restore_snapshot(out, str(tmp_path), NB)
    assert np.array_equal(out["col"], col)


class _Marker:
    """Unpickling this creates a file: proof that an altered pickle ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("use_mmap", [False, True])
def test_an_altered_pickle_is_refused_before_any_of_it_runs(tmp_path, use_mmap):
    import pickle as std_pickle

    folder = tmp_path / "snaps"
    marker = tmp_path / "ran"
    records = [{"n": i} for i in range(30_000)]  # in parts, in the data file
    result = take_snapshot({"records": records, "small": [1, 2]}, str(folder), NB)
    # the stream of one group replaced by a pickle that runs code, another's data part altered
    small = result.manifest["variables"]["small"]["group"]
    with open(os.path.join(result.path, f"{small}.pkl"), "wb") as f:
        f.write(std_pickle.dumps({"small": _Marker(str(marker))}))
    big = result.manifest["groups"][result.manifest["variables"]["records"]["group"]]
    part = next(e for e in big["entries"] if e.get("kind") == "pickle-part")
    with open(os.path.join(result.path, big["data"]), "r+b") as f:
        f.seek(part["offset"] + 10)
        f.write(b"\x00\x01")
    out = {}
    report = restore_snapshot(out, str(folder), NB, use_mmap=use_mmap)
    assert "checksum mismatch" in report.failed["small"] and "checksum mismatch" in report.failed["records"], report
    assert not marker.exists() and out == {}
