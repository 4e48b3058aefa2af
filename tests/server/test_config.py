"""Settings: validated with clear errors, and an admin's memory limit reaching the endpoint."""

import json

import pytest
from traitlets import TraitError

from colab_guard.server.extension import ColabGuard


def test_memory_limit_accepts_units():
    assert ColabGuard(memory_limit="12G").memory_limit == 12 << 30
    assert ColabGuard(memory_limit=1 << 30).memory_limit == 1 << 30
    assert ColabGuard().memory_limit is None


@pytest.mark.parametrize(
    "bad, message", [({"memory_limit": "lots"}, "memory_limit"), ({"sample_interval": 0.0}, "sample_interval")]
)
def test_bad_settings_are_refused_with_the_setting_named(bad, message):
    with pytest.raises(TraitError, match=message):
        ColabGuard(**bad)


def test_snapshot_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COLAB_GUARD_SNAPSHOT_DIR", str(tmp_path / "snaps"))
    assert ColabGuard().snapshot_dir == str(tmp_path / "snaps")


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["ColabGuard"]["memory_limit"] = "256M"
    return jp_server_config


async def test_admin_limit_reaches_the_endpoint(jp_fetch):
    memory = json.loads((await jp_fetch("colab-guard", "v1", "resources")).body)["host"]["memory"]
    assert (memory["limit"], memory["limit_source"]) == (256 << 20, "config")
