"""On a shared JupyterHub, a user's own config cannot loosen what the admin fixed system-wide."""

import json

import pytest


@pytest.fixture
def jp_server_config(jp_server_config, jp_system_config_path, jp_env_config_path):
    # Given the admin's system-wide config (a .d file, as a deployment would drop it in)
    conf_d = jp_system_config_path / "jupyter_server_config.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    (conf_d / "colab-guard-policy.json").write_text(
        json.dumps({"ColabGuard": {"idle_timeout": 3600, "max_lifetime": 7200, "enforce": True, "memory_limit": "8G"}})
    )
    # and a user who tries to loosen it in their own config, and sets a harmless setting too
    jp_server_config["ColabGuard"].update(idle_timeout=999999, enforce=False, memory_limit="64G", sample_interval=0.2)
    return jp_server_config


async def test_admin_values_win_and_say_so(jp_fetch, jp_serverapp):
    body = json.loads((await jp_fetch("colab-guard", "v1", "sessions")).body)
    policy = body["policy"]
    # Then the admin's values apply, and the payload says where they come from
    assert policy["idle_timeout"]["value"] == 3600 and "fixed by the admin" in policy["idle_timeout"]["source"]
    assert policy["enforce"]["value"] is True
    assert body["server"]["seconds_to_lifetime_end"] > 7100
    (app,) = jp_serverapp.extension_manager.extension_apps["colab_guard"]
    assert app.memory_limit == 8 << 30
    # and what the admin did not fix is still the user's
    assert app.sample_interval == 0.2
