"""Every payload that crosses between the server and its kernels is one TypedDict in contract/:
what the real writer writes is exactly its fields, and the reader gives it back as written."""

import asyncio
import json
import os

from helpers import Container, openapi_validator

from colab_guard.contract.heartbeat import Heartbeat, decode_heartbeat, heartbeat_path, read_heartbeat
from colab_guard.contract.manifests import Group, Manifest, ManifestFields, Variable, latest_manifest
from colab_guard.contract.renames import move_snapshots
from colab_guard.contract.server_state import (
    KernelCountdown,
    ServerStateFields,
    decode_server_state,
    read_server_state,
    server_state_path,
)
from colab_guard.contract.settings import WatcherSettings
from colab_guard.contract.typed_json import field_names
from colab_guard.kernel.watcher import Watcher
from colab_guard.snapshot import take_snapshot


def test_the_heartbeat_a_watcher_writes_is_every_field_of_its_definition(tmp_path):
    # Given a real watcher that has read memory once and written its heartbeat
    box = Container(tmp_path)
    box.use(50)
    watcher = Watcher(
        {"x": 1}, WatcherSettings(notebook="w.ipynb", heartbeat_interval=0), str(tmp_path / "s"), reader=box.reader()
    )
    watcher.check()
    with open(heartbeat_path(watcher.snapshot_dir, "w.ipynb")) as f:
        written = json.load(f)
    # Then it holds every field of Heartbeat and nothing else, and reads back as written
    assert set(written) == field_names(Heartbeat)
    assert read_heartbeat(watcher.snapshot_dir, "w.ipynb") == written
    # And a field of the wrong type makes it no heartbeat; one the definition does not know is kept
    assert decode_heartbeat({**written, "percent": "high"}) is None
    assert decode_heartbeat({**written, "from_a_newer_kernel": 1}) == {**written, "from_a_newer_kernel": 1}
    watcher.stop(clean=True)


def test_the_manifest_a_snapshot_writes_is_every_field_of_its_definition(tmp_path):
    # Given a real snapshot of a notebook that was then renamed (the server moves its snapshots)
    folder = str(tmp_path)
    take_snapshot({"weights": [1.0, 2.0], "name": "run 1"}, folder, "old.ipynb")
    move_snapshots(folder, "old.ipynb", "new.ipynb")
    manifest = latest_manifest(folder, "new.ipynb")
    assert manifest is not None
    # Then the manifest holds every field of Manifest (the reader adds its folder as _path)
    assert set(manifest) == field_names(Manifest)
    assert all(set(group) == field_names(Group) for group in manifest["groups"].values())
    assert all(set(info) <= field_names(Variable) for info in manifest["variables"].values())
    with open(os.path.join(manifest["_path"], "manifest.json")) as f:
        assert set(json.load(f)) == field_names(Manifest) - {"_path"}
    # And the fields a reader relies on are the ones it requires
    assert ManifestFields.__required_keys__ == {"id", "created", "created_ts", "variables", "groups"}


class TestServerState:
    async def test_the_state_a_server_writes_is_every_field_of_its_definition(self, jp_fetch, jp_serverapp, tmp_path):
        # Given a real server whose housekeeping has written its state for its kernels
        (extension,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
        path = server_state_path(extension.snapshot_dir, extension.server_id)
        for _ in range(100):
            if os.path.exists(path):
                with open(path) as f:
                    written = json.load(f)
                if written["kernels"]:
                    break
            await asyncio.sleep(0.1)
        # Then it holds every field of ServerStateFields, each kernel's countdown every field of its own
        assert set(written) == field_names(ServerStateFields)
        assert [set(k) for k in written["kernels"].values()] == [field_names(KernelCountdown)]
        # And its parts taken from the sessions payload are what the OpenAPI file says they are
        for part in ("server", "policy", "cost", "warnings", "accelerator_hours"):
            openapi_validator("components", "schemas", "Sessions", "properties", part).validate(written[part])
        openapi_validator("components", "schemas", "Resources", "properties", "environment").validate(written["environment"])
        # And the kernel's reader gives it back as written
        assert read_server_state(extension.snapshot_dir, extension.server_id) == written
        assert decode_server_state({**written, "kernels": {"k": {"cull_at": 3}}}) is None
