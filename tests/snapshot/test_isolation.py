"""Users sharing one snapshot dir cannot plant snapshots, links or heartbeats for each other.

The admin's setup from the README: one snapshot dir for every user of a machine (mode 1777, owned
by root). Two real system accounts made for these tests: a victim, and an attacker who gets there
first. Each acts in a child process that really runs as that user (fork, then setgid/setuid), so
every file has the owner it would have on a shared JupyterHub.
"""

import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time
import uuid

import numpy as np
import pytest

from colab_guard.contract.files import write_json_atomic
from colab_guard.contract.heartbeat import CELLS, HEARTBEAT
from colab_guard.contract.manifests import delete_snapshot
from colab_guard.contract.ownership import UnsafePathError, notebook_dir
from colab_guard.contract.paths import notebook_key, snapshot_root, user_folder
from colab_guard.contract.settings import WatcherSettings
from colab_guard.kernel.gpu_oom import explain, kernels_by_pid
from colab_guard.kernel.watcher import Watcher
from colab_guard.server.settings import ColabGuardSettings
from colab_guard.snapshot import list_snapshots, restore_snapshot, take_snapshot

DEAD_PID = 2**22 + 4321  # above pid_max's default range: no such process
GiB = 1 << 30

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("useradd") and shutil.which("userdel")),
    reason="needs root and useradd/userdel, to make two real system users",
)


class Planted:
    """What an attacker pickles: unpickling it runs their code, here writing a marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran as uid %d' % __import__('os').getuid())",))


# -- the two users, and acting as them


@pytest.fixture(scope="module")
def users():
    """Two real system users, removed at the end: (victim, attacker)."""
    names = [f"cgv{uuid.uuid4().hex[:8]}", f"cga{uuid.uuid4().hex[:8]}"]
    made = []
    try:
        for name in names:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True, capture_output=True)
            made.append(name)
        yield tuple(pwd.getpwnam(name) for name in names)
    finally:
        for name in made:
            subprocess.run(["userdel", name], check=False, capture_output=True)


def as_user(user, fn, *args):
    """Run ``fn(*args)`` in a child process running as ``user``; its result, or its exception's type and message."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become the user, never return into pytest
        try:
            os.close(read_end)
            os.chdir("/")
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            try:
                out = {"result": fn(*args)}
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                out = {"error": type(exc).__name__, "message": str(exc)}
            with os.fdopen(write_end, "w") as pipe:
                json.dump(out, pipe, default=repr)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    assert text, "the child process died without a word"
    return json.loads(text)


def folder_of(user) -> str:
    """A user's folder name in a shared snapshot dir, as colab-guard computes it running as that user."""
    return user_folder(env={}, uid=user.pw_uid)


@pytest.fixture
def shared(users, monkeypatch):
    """The README's hub setup: one snapshot dir for everyone, mode 1777, owned by root; and a place for markers."""
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    base = tempfile.mkdtemp(prefix="colab-guard-iso-", dir="/tmp")
    os.chmod(base, 0o755)
    snapdir, markers, elsewhere = (os.path.join(base, name) for name in ("snapshots", "markers", "elsewhere"))
    for path in (snapdir, markers, elsewhere):
        os.mkdir(path)
        os.chmod(path, 0o1777)
    yield {"dir": snapdir, "marker": os.path.join(markers, "planted-code-ran"), "elsewhere": elsewhere}
    shutil.rmtree(base, ignore_errors=True)


def readable_by_all(path: str) -> None:
    """As the attacker: make a planted tree readable by its victim."""
    for root, _, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def plant_snapshot(snapdir: str, marker: str, notebook: str, victim) -> str:
    """As the attacker: a real snapshot whose variable runs code when unpickled, moved to the victim's folder name."""
    take_snapshot({"weights": Planted(marker)}, snapdir, notebook)
    mine, theirs = os.path.join(snapdir, user_folder()), os.path.join(snapdir, folder_of(victim))
    readable_by_all(mine)
    os.rename(mine, theirs)
    return theirs


def restore_into_dict(snapdir: str, notebook: str) -> dict:
    namespace: dict = {}
    result = restore_snapshot(namespace, snapdir, notebook)
    return {"restored": result.restored, "failed": result.failed}


# -- (a) a planted snapshot


@needs_root
def test_a_snapshot_planted_in_the_victims_folder_is_refused_and_never_unpickled(users, shared):
    victim, attacker = users
    snapdir, marker = shared["dir"], shared["marker"]
    # Given the attacker made the victim's folder before the victim's first snapshot, and planted a snapshot in it
    planted = as_user(attacker, plant_snapshot, snapdir, marker, "train.ipynb", victim)["result"]
    assert os.stat(planted).st_uid == attacker.pw_uid
    # When the victim restores, lists or snapshots
    restored = as_user(victim, restore_into_dict, snapdir, "train.ipynb")
    listed = as_user(victim, lambda: len(list_snapshots(snapdir, "train.ipynb")))
    listed_all = as_user(victim, lambda: len(list_snapshots(snapdir, on_unsafe=lambda exc: None)))
    taken = as_user(victim, lambda: take_snapshot({"x": 1}, snapdir, "train.ipynb").path)
    # Then each is refused with a message naming the folder and its owner
    for out in (restored, listed, taken):
        assert out.get("error") == "UnsafePathError", out
        assert f"refusing to use {planted}: it belongs to uid {attacker.pw_uid} ({attacker.pw_name})" in out["message"]
        assert "Ask an admin to remove it" in out["message"]
    assert listed_all == {"result": 0}  # the server's list leaves it out
    # and the planted code never ran, nor did the victim write anything into the attacker's folder
    assert not os.path.exists(marker)
    assert len(os.listdir(os.path.join(planted, notebook_key("train.ipynb")))) == 1


@needs_root
def test_a_snapshot_planted_through_a_folder_writable_by_others_is_refused(users, shared):
    victim, attacker = users
    snapdir, marker = shared["dir"], shared["marker"]
    # Given the victim's own folder, left writable by everyone (mode 0777)
    mine = as_user(victim, lambda: os.path.dirname(take_snapshot({"x": 1}, snapdir, "other.ipynb").path))["result"]
    user_dir = os.path.dirname(mine)
    os.chmod(user_dir, 0o777)

    def plant_inside():  # the attacker's snapshot, moved into the victim's folder
        take_snapshot({"weights": Planted(marker)}, snapdir, "train.ipynb")
        nb = os.path.join(snapdir, user_folder(), notebook_key("train.ipynb"))
        readable_by_all(nb)
        os.rename(nb, os.path.join(user_dir, notebook_key("train.ipynb")))

    assert "error" not in as_user(attacker, plant_inside)
    # When the victim restores: the folder is refused for its mode, with what to do
    out = as_user(victim, restore_into_dict, snapdir, "train.ipynb")
    assert out["error"] == "UnsafePathError"
    assert f"refusing to use {user_dir}: it is writable by group or others (mode 0777)" in out["message"]
    assert f"run `chmod go-w {user_dir}`" in out["message"]
    # When the victim fixes the mode: the attacker's notebook folder inside is refused for its owner
    os.chmod(user_dir, 0o700)
    out = as_user(victim, restore_into_dict, snapdir, "train.ipynb")
    assert out["error"] == "UnsafePathError"
    assert f"{os.path.join(user_dir, notebook_key('train.ipynb'))}: it belongs to uid {attacker.pw_uid}" in out["message"]
    # and the server's list leaves that folder out but keeps the victim's own snapshot
    assert as_user(victim, lambda: [m["notebook"] for m in list_snapshots(snapdir, on_unsafe=lambda e: None)]) == {
        "result": ["other.ipynb"]
    }
    assert not os.path.exists(marker)


# -- (b) planted symbolic links


@needs_root
def test_a_link_planted_as_the_victims_folder_is_refused_and_nothing_is_written_through_it(users, shared):
    victim, attacker = users
    snapdir, elsewhere = shared["dir"], shared["elsewhere"]
    # Given the attacker's link where the victim's folder will be, to a folder everyone can write
    target = os.path.join(elsewhere, "attackers")

    def plant_link():
        os.mkdir(target)
        os.chmod(target, 0o777)
        os.symlink(target, os.path.join(snapdir, folder_of(victim)))

    assert "error" not in as_user(attacker, plant_link)

    # When the victim snapshots, writes a heartbeat, restores
    def use_it():
        out = {}
        try:
            take_snapshot({"secret": "the victim's data"}, snapdir, "train.ipynb")
        except UnsafePathError as exc:
            out["snapshot"] = str(exc)
        watcher = Watcher({}, WatcherSettings(notebook="train.ipynb"), snapdir)
        watcher.stop(clean=True)  # a clean stop writes the heartbeat
        out["heartbeat"] = watcher.last_error
        try:
            restore_snapshot({}, snapdir, "train.ipynb")
        except UnsafePathError as exc:
            out["restore"] = str(exc)
        return out

    out = as_user(victim, use_it)["result"]
    # Then each refuses the link, and nothing went through it
    link = os.path.join(snapdir, folder_of(victim))
    for what in ("snapshot", "heartbeat", "restore"):
        assert f"refusing to use {link}: it is a symbolic link" in out[what], (what, out)
    assert os.listdir(target) == []


@needs_root
def test_a_file_replaced_by_a_link_is_never_read_or_written_through(users, shared):
    victim, attacker = users
    snapdir, marker, elsewhere = shared["dir"], shared["marker"], shared["elsewhere"]
    # Given the victim's own snapshot, and the attacker's pickle outside it
    evil = os.path.join(elsewhere, "evil.pkl")

    def write_evil():
        import pickle

        with open(evil, "wb") as f:
            f.write(pickle.dumps({"x": Planted(marker)}))
        os.chmod(evil, 0o644)

    assert "error" not in as_user(attacker, write_evil)
    path = as_user(victim, lambda: take_snapshot({"x": 1}, snapdir, "train.ipynb").path)["result"]
    precious = os.path.join(elsewhere, "precious")

    def tamper_and_use():
        # a link where the snapshot's pickle was; a link where the next heartbeat's temporary file goes
        os.unlink(os.path.join(path, "g000.pkl"))
        os.symlink(evil, os.path.join(path, "g000.pkl"))
        with open(precious, "w") as f:
            f.write("precious")
        watcher = Watcher({}, WatcherSettings(notebook="train.ipynb"), snapdir)
        os.symlink(precious, f"{watcher.heartbeat_path}.tmp-{os.getpid()}")
        namespace: dict = {}
        result = restore_snapshot(namespace, snapdir, "train.ipynb")
        watcher.stop(clean=True)
        with open(watcher.heartbeat_path) as f:
            beat = json.load(f)
        return {"failed": result.failed, "restored": result.restored, "beat_pid": beat["pid"], "pid": os.getpid()}

    out = as_user(victim, tamper_and_use)["result"]
    # Then the restore refuses the link, naming it, and runs nothing
    assert out["restored"] == []
    assert f"refusing to use {os.path.join(path, 'g000.pkl')}: it is a symbolic link" in out["failed"]["x"]
    assert not os.path.exists(marker)
    # and the heartbeat replaced the link instead of writing through it
    assert out["beat_pid"] == out["pid"]
    with open(precious) as f:
        assert f.read() == "precious"


# -- (c) the victim's own snapshots


@needs_root
def test_the_victims_own_snapshots_round_trip_in_the_shared_dir(users, shared):
    victim, _ = users
    snapdir = shared["dir"]

    # Given snapshots taken by the victim in the shared dir
    def round_trip():
        take_snapshot({"a": np.arange(10), "note": "first"}, snapdir, "train.ipynb")
        second = take_snapshot({"a": np.arange(10), "note": "second"}, snapdir, "train.ipynb")  # reuses "a"
        namespace: dict = {}
        result = restore_snapshot(namespace, snapdir, "train.ipynb", use_mmap=True)
        listed = [m["id"] for m in list_snapshots(snapdir)]
        delete_snapshot(snapdir, notebook_key("train.ipynb"), listed[-1])
        return {
            "restored": result.restored,
            "a": namespace["a"].tolist(),
            "note": namespace["note"],
            "reused": second.bytes_reused,
            "listed": len(listed),
            "after_delete": len(list_snapshots(snapdir, "train.ipynb")),
            "root": snapshot_root(snapdir, "train.ipynb"),
        }

    out = as_user(victim, round_trip)["result"]
    # Then they restore, list and delete as before
    assert out["restored"] == ["a", "note"] and out["a"] == list(range(10)) and out["note"] == "second"
    assert out["reused"] > 0 and out["listed"] == 2 and out["after_delete"] == 1
    # in the victim's own folder, private to them
    user_dir = os.path.join(snapdir, folder_of(victim))
    assert out["root"] == os.path.join(user_dir, notebook_key("train.ipynb"))
    assert folder_of(victim) == f"u{victim.pw_uid}-{victim.pw_name}"
    for path in (user_dir, out["root"]):
        st = os.lstat(path)
        assert st.st_uid == victim.pw_uid and stat.S_IMODE(st.st_mode) == 0o700


# -- (d) a shared dir with unsafe permissions


@needs_root
def test_a_shared_dir_without_the_sticky_bit_or_owned_by_another_user_is_refused(users, shared):
    victim, attacker = users
    snapdir = shared["dir"]
    # Given the shared dir writable by everyone but without the sticky bit
    os.chmod(snapdir, 0o777)
    out = as_user(victim, lambda: take_snapshot({"x": 1}, snapdir, "train.ipynb").path)
    # Then the victim's snapshot is refused, with what the admin should do
    assert out["error"] == "UnsafePathError"
    assert (
        f"refusing to use {snapdir}: the snapshot dir is writable by others without the sticky bit (mode 0777)"
        in (out["message"])
    )
    assert f"chmod 1777 {snapdir}" in out["message"]
    # Given the shared dir with the sticky bit, but owned by the attacker
    os.chmod(snapdir, 0o1777)
    os.chown(snapdir, attacker.pw_uid, attacker.pw_gid)
    out = as_user(victim, lambda: take_snapshot({"x": 1}, snapdir, "train.ipynb").path)
    assert out["error"] == "UnsafePathError"
    assert (
        f"the snapshot dir belongs to uid {attacker.pw_uid} ({attacker.pw_name}), who could replace your folder"
        in (out["message"])
    )
    assert os.listdir(snapdir) == []


# -- (e) heartbeats


def plant_heartbeats(snapdir: str, victim, pid: int, victims_pid: int, other_pid: int) -> None:
    """As the attacker: heartbeats in their own (shared-readable) folder, and in a folder named after the victim."""
    for notebook, beat_pid in [("attacker.ipynb", pid), ("forged.ipynb", victims_pid)]:
        folder = notebook_dir(snapdir, notebook, create=True, mode=0o755)  # as shared_heartbeats writes them
        beat = {"pid": beat_pid, "time": time.time(), "clean_exit": False, "notebook": notebook, "executing": False,
                "idle_since": time.time() - 600, "percent": 99.0}  # fmt: skip
        write_json_atomic(os.path.join(folder, HEARTBEAT), beat, mode=0o644)
    hijacked = os.path.join(snapdir, folder_of(victim), "hijack")
    os.makedirs(hijacked, mode=0o755)
    os.chmod(os.path.dirname(hijacked), 0o755)
    beat = {"pid": other_pid, "time": time.time(), "clean_exit": False, "notebook": "hijack.ipynb"}
    write_json_atomic(os.path.join(hijacked, HEARTBEAT), beat, mode=0o644)


@needs_root
def test_other_users_heartbeats_name_gpu_holders_only_with_shared_heartbeats(users, shared):
    victim, attacker = users
    snapdir = shared["dir"]
    # Given a process of the attacker's and one of the victim's, and the attacker's heartbeats
    theirs, other = (
        subprocess.Popen(["sleep", "60"], user=attacker.pw_uid, group=attacker.pw_gid, extra_groups=[]) for _ in "ab"
    )
    victims = subprocess.Popen(["sleep", "60"], user=victim.pw_uid, group=victim.pw_gid, extra_groups=[])
    try:
        assert "error" not in as_user(attacker, plant_heartbeats, snapdir, victim, theirs.pid, victims.pid, other.pid)
        gpus = [{"index": 0, "name": "NVIDIA A100", "memory_used": 30 * GiB, "memory_total": 40 * GiB,
                 "processes": [{"pid": theirs.pid, "used_memory": 8 * GiB}, {"pid": victims.pid, "used_memory": 2 * GiB},
                               {"pid": other.pid, "used_memory": 1 * GiB}]}]  # fmt: skip

        def explanation(shared_view: bool):
            kernels = kernels_by_pid(snapdir, shared_view)
            return {"pids": sorted(kernels), "text": explain(gpus, {os.getpid()}, kernels)}

        # When the victim's kernel explains a GPU out-of-memory error
        private = as_user(victim, explanation, False)["result"]
        shared_view = as_user(victim, explanation, True)["result"]
    finally:
        for process in (theirs, other, victims):
            process.kill()
            process.wait()
    # Then by default no heartbeat of the attacker's counts: their processes are just processes
    assert private["pids"] == []
    assert f"process {theirs.pid} holds 8.0 GiB" in private["text"] and "attacker.ipynb" not in private["text"]
    # With shared_heartbeats, their kernel is named; never one whose heartbeat claims another user's
    # process, nor one in a folder named after another user
    assert shared_view["pids"] == [theirs.pid]
    assert f"the kernel of attacker.ipynb (pid {theirs.pid}) holds 8.0 GiB, idle for 10 min" in shared_view["text"]
    assert f"process {victims.pid} holds 2.0 GiB" in shared_view["text"]
    assert f"process {other.pid} holds 1.0 GiB" in shared_view["text"]
    assert "forged.ipynb" not in shared_view["text"] and "hijack.ipynb" not in shared_view["text"]


@needs_root
def test_shared_heartbeats_make_the_heartbeat_readable_and_nothing_else(users, shared):
    victim, _ = users
    snapdir = shared["dir"]

    # Given the victim's kernels write heartbeats, with and without shared_heartbeats, and a snapshot
    def write(notebook: str, shared_view: bool) -> str:
        Watcher({}, WatcherSettings(notebook=notebook, shared_heartbeats=shared_view), snapdir).stop(clean=True)
        take_snapshot({"x": 1}, snapdir, notebook)
        return snapshot_root(snapdir, notebook)

    private = as_user(victim, write, "private.ipynb", False)["result"]
    shared_root = as_user(victim, write, "shared.ipynb", True)["result"]

    def mode(path):
        return stat.S_IMODE(os.lstat(path).st_mode)

    # Then by default everything is the victim's alone
    assert mode(os.path.dirname(private)) == 0o755  # made readable by the shared kernel since
    assert mode(private) == 0o700 and mode(os.path.join(private, HEARTBEAT)) == 0o600
    # with shared_heartbeats the heartbeat and its folders are readable, never writable, by others
    assert mode(shared_root) == 0o755 and mode(os.path.join(shared_root, HEARTBEAT)) == 0o644
    # and the snapshots stay private
    (snap,) = [n for n in os.listdir(shared_root) if n not in (HEARTBEAT, CELLS)]
    assert mode(os.path.join(shared_root, snap)) == 0o700
    assert {mode(os.path.join(shared_root, snap, f)) for f in os.listdir(os.path.join(shared_root, snap))} == {0o600}
    # and the shared heartbeat carries no cell source (it may hold a secret): that stays private beside it
    with open(os.path.join(shared_root, HEARTBEAT)) as f:
        assert "cells" not in json.load(f)
    assert mode(os.path.join(shared_root, CELLS)) == 0o600

    # When sharing is turned off, the next kernel of that notebook takes the read bits back
    as_user(victim, write, "shared.ipynb", False)
    assert mode(shared_root) == 0o700 and mode(os.path.dirname(shared_root)) == 0o700
    assert mode(os.path.join(shared_root, HEARTBEAT)) == 0o600


@pytest.fixture
def jp_server_config(jp_server_config, users, shared):
    """A server of the victim's (root here: what matters is that the files' owner differs) over a planted dir."""
    _, attacker = users
    snapdir = shared["dir"]
    stale = {"pid": DEAD_PID, "time": time.time() - 60, "clean_exit": False, "notebook": "/home/ada/train.ipynb",
             "working_set": int(9.75e8), "limit": int(1e9), "percent": 97.5, "peak_percent": 97.5}  # fmt: skip

    def plant():
        # a snapshot, moved into the folder that the server's user will use, made by the attacker first
        key = notebook_key("/home/ada/train.ipynb")
        servers = os.path.join(snapdir, folder_of(pwd.getpwuid(0)))
        os.mkdir(servers, 0o755)
        take_snapshot({"weights": [1.0]}, snapdir, "/home/ada/train.ipynb")
        os.rename(os.path.join(snapdir, user_folder(), key), os.path.join(servers, key))
        # stale heartbeats there, in the attacker's own folder, and where the old shared layout had them
        for folder in (servers, os.path.join(snapdir, user_folder()), snapdir):
            os.makedirs(os.path.join(folder, key), mode=0o755, exist_ok=True)
            write_json_atomic(os.path.join(folder, key, HEARTBEAT), stale, mode=0o644)

    assert "error" not in as_user(attacker, plant)
    jp_server_config["ColabGuard"]["snapshot_dir"] = snapdir
    return jp_server_config


@needs_root
async def test_the_previous_session_scan_and_the_snapshot_list_ignore_another_users_files(jp_fetch, users, shared):
    # Given a server starting over a shared dir where the attacker planted stale heartbeats near the
    # limit (even in the folder named after the server's user) and a snapshot
    os.environ.pop("JUPYTERHUB_USER", None)
    # When it reports the previous session's deaths and lists the snapshots
    body = json.loads((await jp_fetch("colab-guard", "v1", "postmortems")).body)
    snapshots = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)
    # Then none of the attacker's files counts
    assert body["previous_session"] == []
    assert snapshots["snapshots"] == []


def test_the_user_folder_is_named_after_the_hub_user_or_the_login_and_the_uid():
    assert user_folder({"JUPYTERHUB_USER": "ada"}, 1001) == "u1001-ada"
    # a hub name that is not a safe file name: made one, kept apart from the names it resembles
    odd = user_folder({"JUPYTERHUB_USER": "ada@example.org/../x"}, 1001)
    assert odd.startswith("u1001-ada-example.org-") and "/" not in odd
    assert odd != user_folder({"JUPYTERHUB_USER": "ada-example.org-..-x"}, 1001)
    assert user_folder({}, 0) == "u0-root"
    assert user_folder({}, 2**31 - 7) == f"u{2**31 - 7}"  # no passwd entry


def test_shared_heartbeats_is_off_by_default_and_reaches_the_kernels():
    assert ColabGuardSettings().shared_heartbeats is False
    assert WatcherSettings.from_env(ColabGuardSettings().kernel_env()).shared_heartbeats is False
    env = ColabGuardSettings(shared_heartbeats=True).kernel_env()
    assert env["COLAB_GUARD_SHARED_HEARTBEATS"] == "1"
    assert WatcherSettings.from_env(env).shared_heartbeats is True


def test_a_snapshot_dir_of_ones_own_keeps_working_and_refuses_a_planted_link(tmp_path):
    # Given a single user's snapshot dir (no other users needed: the link is the danger here)
    snapdir = str(tmp_path / "snapshots")
    take_snapshot({"x": 1}, snapdir, "nb.ipynb")
    out: dict = {}
    assert restore_snapshot(out, snapdir, "nb.ipynb").restored == ["x"] and out == {"x": 1}
    # When a notebook's folder is replaced by a link to another user's kind of place
    (tmp_path / "elsewhere").mkdir()
    root = snapshot_root(snapdir, "nb.ipynb")
    os.rename(root, tmp_path / "elsewhere" / "moved")
    os.symlink(tmp_path / "elsewhere" / "moved", root)
    # Then it is refused, named
    with pytest.raises(UnsafePathError, match=re.escape(f"refusing to use {root}: it is a symbolic link")):
        restore_snapshot({}, snapdir, "nb.ipynb")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        take_snapshot({"x": 2}, snapdir, "nb.ipynb")
