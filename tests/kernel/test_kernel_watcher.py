"""The watcher inside real ipykernels started by the real server: %guard, snapshots, restore, API."""

import json
import os

import pytest
from kernel_helpers import start_notebook_kernel
from tornado.httpclient import HTTPClientError

SETUP = """
import numpy as np, pandas as pd
arr = np.arange(1_000_000, dtype=np.float32).reshape(1000, 1000)
view = arr[::10]
df = pd.DataFrame({"a": np.arange(5), "b": list("vwxyz")})
nested = {"k": [1, 2.5, "three"]}
"""
CHECK = "print(float(arr.sum()), np.shares_memory(view, arr), df.b.tolist(), nested)"


async def test_watcher_loaded_snapshot_restore_in_a_fresh_kernel(jp_fetch, jp_serverapp, tmp_path):
    # Given a notebook kernel the server started: the watcher is loaded without any user action
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp)
    try:
        out = await kernel.run(
            "import colab_guard.kernel as k; print(k.get_guard().watcher.running, k.get_guard().settings.notebook)"
        )
        assert out["error"] is None, out
        running, notebook = out["text"].split()
        assert running == "True" and notebook.endswith("analysis.ipynb")
        status = await kernel.run("%guard status")
        html = status["data"][0]["text/html"]
        assert "colab-guard" in html and 'role="progressbar"' in html
        assert "Accelerator: CPU only" in status["data"][0]["text/plain"]

        # When the user's variables are snapshotted
        assert (await kernel.run(SETUP))["error"] is None
        before = (await kernel.run(CHECK))["text"]
        out = await kernel.run("%guard snapshot")
        assert out["error"] is None and "Saved 4 variables and 3 imports" in out["text"], out

        # Then the server lists it, with its variables and the command to restore it
        listing = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)
        (snap,) = listing["snapshots"]
        assert snap["notebook"].endswith("analysis.ipynb")
        assert set(snap["variables"]) == {"arr", "view", "df", "nested"}
        assert snap["modules"] == {"np": "numpy", "pd": "pandas", "k": "colab_guard.kernel"}
        assert snap["restore"] == f"%guard restore {snap['id']}"

        # And a restarted kernel (all variables gone) gets them back exactly
        await jp_fetch("api", "kernels", kernel.id, "restart", method="POST", body="")
        await kernel.connect()
        assert "NameError" in (await kernel.run("arr"))["error"]
        out = await kernel.run("%guard restore")
        assert out["error"] is None and "Restored 7 variables" in out["text"], out
        assert (await kernel.run(CHECK))["text"] == before
    finally:
        kernel.stop()


async def test_bad_commands_give_clear_errors(jp_fetch, jp_serverapp):
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "bad.ipynb")
    try:
        # IPython shows a UsageError as a short message on stderr, without a traceback
        for command, message in [
            ("%guard frobnicate", "UsageError: unknown colab-guard command 'frobnicate'"),
            ("%guard restore", "UsageError: colab-guard: no snapshot of"),
            ("%guard", "%guard status"),
        ]:
            out = await kernel.run(command)
            assert message in out["text"], (command, out)
    finally:
        kernel.stop()


async def test_delete_snapshot_and_refuse_paths_outside(jp_fetch, jp_serverapp, tmp_path):
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "del.ipynb")
    try:
        await kernel.run("x = 1\n%guard snapshot")
    finally:
        kernel.stop()
    (snap,) = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]
    # a file outside the snapshot dir that a traversal would reach
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}")
    os.symlink(outside, tmp_path / "snapshots" / "link")
    for key, snap_id in [("..", "precious"), ("link", "x"), (snap["key"], ".."), ("%2E%2E", "precious")]:
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("colab-guard", "v1", "snapshots", key, snap_id, method="DELETE")
        assert err.value.code in (400, 404), (key, snap_id)
        assert json.loads(err.value.response.body)["message"]
    assert (outside / "manifest.json").exists()
    # deleting the real one works, once
    response = await jp_fetch("colab-guard", "v1", "snapshots", snap["key"], snap["id"], method="DELETE")
    assert response.code == 204
    assert json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"] == []
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("colab-guard", "v1", "snapshots", snap["key"], snap["id"], method="DELETE")
    assert err.value.code == 404
