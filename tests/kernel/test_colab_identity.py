"""Which notebook this is, in Colab: the kernel asks the runtime's own Jupyter server for its session.

Colab's hosted runtime starts kernels from its own Jupyter server, without JPY_SESSION_NAME, and
lists its sessions at /api/sessions with the notebook's name and ``fileId=<Drive id>`` as path.
Here a real jupyter_server without colab-guard stands in for it: its kernels start without
JPY_SESSION_NAME and with Colab's variables, and sessions are made as Colab makes them.
"""

import json
import os
import sys

import pytest
from colab_kernels import COLAB_ENV
from kernel_helpers import Kernel


@pytest.fixture
def jp_server_config(jp_server_config):
    """Colab's own server: a plain jupyter_server, colab-guard not loaded into it."""
    return {"ServerApp": {"jpserver_extensions": {"colab_guard": False}}}


@pytest.fixture
def colab_kernelspec(jp_data_dir, jp_serverapp, jp_http_port, jp_base_url, tmp_path):
    """A kernel spec like Colab's: no JPY_SESSION_NAME, Colab's variables, Drive in a temporary folder."""
    token = jp_serverapp.identity_provider.token
    drive = tmp_path / "drive" / "MyDrive"
    drive.mkdir(parents=True)
    spec = jp_data_dir / "kernels" / "colab"
    spec.mkdir(parents=True)
    env = {
        **COLAB_ENV,
        "COLAB_GUARD_DRIVE": str(drive),
        "COLAB_GUARD_SESSIONS_URL": f"http://127.0.0.1:{jp_http_port}{jp_base_url}api/sessions?token={token}",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    argv = ["env", "-u", "JPY_SESSION_NAME", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Colab", "language": "python", "env": env}))
    return drive


async def open_in_colab(jp_fetch, serverapp, file_id: str, name: str) -> Kernel:
    """A notebook opened in Colab: a session whose path is its Drive file id."""
    body = json.dumps({"path": f"fileId={file_id}", "name": name, "type": "notebook", "kernel": {"name": "colab"}})
    kernel_id = json.loads((await jp_fetch("api", "sessions", method="POST", body=body)).body)["kernel"]["id"]
    kernel = await Kernel(serverapp, kernel_id, name).connect()
    out = await kernel.run("%load_ext colab_guard")
    assert out["error"] is None, out
    return kernel


IDENTITY = "g = __import__('colab_guard').kernel.get_guard(); print(g.settings.notebook, g.identity.name, g.identity.known)"


async def test_two_colab_notebooks_with_one_name_find_themselves_and_never_restore_each_other(
    jp_fetch, jp_serverapp, colab_kernelspec
):
    # Given two notebooks opened in Colab, both "Untitled0.ipynb" (Colab's default name), two Drive files
    first = await open_in_colab(jp_fetch, jp_serverapp, "1AAAfirst", "Untitled0.ipynb")
    second = await open_in_colab(jp_fetch, jp_serverapp, "1BBBsecond", "Untitled0.ipynb")
    try:
        # Then each kernel found its own notebook in the runtime's session list, by its kernel id
        assert (await first.run("import os; print(os.environ.get('JPY_SESSION_NAME'))"))["text"].strip() == "None"
        assert (await first.run(IDENTITY))["text"].split() == ["colab/1AAAfirst", "Untitled0.ipynb", "True"]
        assert (await second.run(IDENTITY))["text"].split() == ["colab/1BBBsecond", "Untitled0.ipynb", "True"]
        status = await first.run("%guard status")
        assert "colab-guard · Colab · notebook Untitled0.ipynb" in status["data"][0]["text/plain"]

        # When the first snapshots its variables
        out = await first.run("secret = 'of the first notebook'\n%guard snapshot")
        assert out["error"] is None and "Saved 1 variables" in out["text"], out
        # Then the second, restoring, finds nothing of its own and loads nothing
        out = await second.run("%guard restore")
        assert "no snapshot of colab/1BBBsecond" in out["text"], out
        assert "NameError" in (await second.run("secret"))["error"]

        # And the first notebook's next kernel (a restart) gets its variables back
        await jp_fetch("api", "kernels", first.id, "restart", method="POST", body="")
        await first.connect()
        assert (await first.run("%load_ext colab_guard"))["error"] is None
        out = await first.run("%guard restore\nprint(secret)")
        assert out["error"] is None and "of the first notebook" in out["text"], out
        snapshots = os.listdir(colab_kernelspec / "colab-guard" / "snapshots")
        assert len(snapshots) == 1  # one user folder, on the Drive-like folder
    finally:
        first.stop()
        second.stop()
