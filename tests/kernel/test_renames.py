"""Snapshots follow a notebook renamed through the server's sessions API, as JupyterLab renames it."""

import asyncio
import json

from kernel_helpers import start_notebook_kernel


async def test_a_renamed_notebook_finds_its_snapshots_after_its_kernel_dies(jp_fetch, jp_serverapp):
    # Given a notebook with a snapshot
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "draft.ipynb")
    manager = jp_serverapp.kernel_manager.get_kernel(kernel.id)
    old_pid = manager.provisioner.process.pid
    try:
        assert (await kernel.run("weights = list(range(1000))\n%guard snapshot"))["error"] is None

        # When the user renames it into a folder (JupyterLab PATCHes the session's path and name)
        (session,) = json.loads((await jp_fetch("api", "sessions")).body)
        body = json.dumps({"path": "final/model.ipynb", "name": "final/model.ipynb"})
        await jp_fetch("api", "sessions", session["id"], method="PATCH", body=body)
        # Then the running kernel files its next snapshot under the new name too
        for _ in range(40):
            out = await kernel.run("import colab_guard.kernel as k; print(k.get_guard().settings.notebook)")
            if out["text"].strip().endswith("final/model.ipynb"):
                break
            await asyncio.sleep(0.25)
        assert out["text"].strip().endswith("final/model.ipynb"), out
        assert (await kernel.run("extra = 'after the rename'\n%guard snapshot"))["error"] is None
        listing = await kernel.run("%guard list")
        assert len(listing["text"].strip().splitlines()) == 2, listing

        # And once the kernel dies, its replacement (started for the renamed notebook) restores both
        manager.provisioner.process.kill()
        for _ in range(60):
            await asyncio.sleep(0.5)
            if await manager.is_alive() and manager.provisioner.process.pid != old_pid:
                break
        await kernel.connect()
        out = await kernel.run("%guard restore\nprint(len(weights), extra)")
        assert out["error"] is None and "1000 after the rename" in out["text"], out
        snaps = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]
        assert len(snaps) == 2 and all(s["notebook"].endswith("final/model.ipynb") for s in snaps), snaps
        # And %guard list --all shows every notebook's snapshots
        out = await kernel.run("%guard list --all")
        assert len(out["text"].strip().splitlines()) == 2, out
    finally:
        kernel.stop()
