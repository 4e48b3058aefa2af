"""Bad input at the server's routes: a 4xx with a message, and one broken file costs only itself."""

import json
import os

import pytest
from tornado.httpclient import HTTPClientError

from colab_guard.contract.ownership import notebook_dir
from colab_guard.contract.settings import parse_value
from colab_guard.snapshot import take_snapshot


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    jp_server_config["ColabGuard"]["snapshot_dir"] = str(tmp_path / "snapshots")
    return jp_server_config


async def status_of(jp_fetch, *parts, method="GET") -> tuple[int, str]:
    try:
        response = await jp_fetch(*parts, method=method)
        return response.code, ""
    except HTTPClientError as exc:
        return exc.code, exc.response.body.decode() if exc.response is not None else ""


async def test_a_name_longer_than_a_file_name_is_a_400(jp_fetch):
    code, body = await status_of(jp_fetch, "colab-guard", "v1", "snapshots", "k" * 5000, "x", method="DELETE")
    assert code == 400 and "longer than a file name" in body, body


async def test_a_kernel_id_with_a_line_break_never_reaches_the_log(jp_fetch, caplog):
    code, body = await status_of(jp_fetch, "colab-guard", "v1", "kernels", "abc%0Aforged log line", "postmortem")
    assert code == 404 and "no post-mortem" in body
    assert not [r for r in caplog.records if "forged log line" in r.getMessage() and "\n" in r.getMessage()]


async def test_one_broken_manifest_hides_only_that_snapshot(jp_fetch, tmp_path):
    folder = str(tmp_path / "snapshots")
    good = take_snapshot({"x": 1}, folder, "good.ipynb")
    broken = take_snapshot({"y": 2}, folder, "broken.ipynb")
    with open(os.path.join(broken.path, "manifest.json"), "w") as f:
        json.dump({"id": broken.id, "created_ts": 1}, f)
    body = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)
    assert [s["id"] for s in body["snapshots"]] == [good.id]


async def test_snapshots_of_a_notebook_whose_key_starts_with_a_dot_can_be_deleted(jp_fetch, tmp_path):
    folder = str(tmp_path / "snapshots")
    notebook = "a" * 10 + "/.b" + "c" * 72 + ".ipynb"  # a long path whose readable key is cut at a dot
    result = take_snapshot({"x": 1}, folder, notebook)
    key = os.path.basename(notebook_dir(folder, notebook))
    assert key.startswith(".")
    code, body = await status_of(jp_fetch, "colab-guard", "v1", "snapshots", key, result.id, method="DELETE")
    assert code == 204, body
    assert not os.path.exists(result.path)


@pytest.mark.parametrize(
    "name, text", [("weekly_hours", "nan"), ("idle_timeout", "inf"), ("warn_percent", "nan"), ("rates", "T4:inf")]
)
def test_settings_refuse_numbers_that_are_not_finite(name, text):
    with pytest.raises(ValueError, match="finite|rates"):
        parse_value(name, text)
