"""colab-guard behind a real JupyterHub: its proxy, its tokens, its per-user servers (see hub_helpers)."""

import os

import pytest
from hub_helpers import start_hub, stop_hub

pytestmark = pytest.mark.jupyterhub


@pytest.fixture
def hub(tmp_path):
    hub = start_hub(tmp_path)
    yield hub
    stop_hub(hub)


def test_colab_guard_through_the_hub_proxy_per_user(hub):
    # Given alice's and bob's servers, started through the hub's REST API, and a token for each
    hub.start_server("alice")
    hub.start_server("bob")
    alice, bob = hub.token_for("alice"), hub.token_for("bob")
    resources = "/user/alice/colab-guard/v1/resources"

    # When alice reads her own server's resources through the hub's proxy with her token
    response = hub.api("GET", resources, token=alice)
    # Then they are real readings of this machine, seen from a JupyterHub single-user server
    assert response.status_code == 200, (response.status_code, response.text[:500])
    body = response.json()
    assert body["host"]["memory"]["total"] > 0 and body["host"]["memory"]["limit"] > 0
    assert body["host"]["cpu"]["count"] == os.cpu_count()
    assert body["environment"]["kind"] == "jupyterhub"
    assert body["accelerator_status"] in ("ok", "none", "no-driver", "error")

    # When bob uses his token on alice's colab-guard endpoints
    for path in (resources, "/user/alice/colab-guard/v1/sessions", "/user/alice/colab-guard/v1/snapshots"):
        response = hub.api("GET", path, token=bob, follow_redirects=False)
        # Then he is refused, and none of alice's data comes back
        assert response.status_code == 403, (path, response.status_code, response.text[:300])
        assert b"working_set" not in response.content and b"seconds_to_lifetime_end" not in response.content
    # (while his own server answers him)
    assert hub.api("GET", "/user/bob/colab-guard/v1/resources", token=bob).status_code == 200
    # And neither a request without a token nor the hub's service token (admin:users and
    # admin:servers, but no access:servers) gets alice's data
    without = hub.http.get(resources, follow_redirects=False)
    assert without.status_code == 403 and b"working_set" not in without.content
    service = hub.api("GET", resources, follow_redirects=False)
    assert service.status_code == 403 and b"working_set" not in service.content

    # When alice reads her sessions
    response = hub.api("GET", "/user/alice/colab-guard/v1/sessions", token=alice)
    assert response.status_code == 200, (response.status_code, response.text[:500])
    sessions = response.json()
    # Then the admin's settings from the spawner's arguments are the policy, with their source
    assert sessions["policy"]["idle_timeout"] == {"value": 3600, "source": "ColabGuard.idle_timeout", "unit": "seconds"}
    assert sessions["policy"]["max_lifetime"]["value"] == 7200
    # And the lifetime countdown started with her server, seconds ago
    assert 7200 - 120 < sessions["server"]["seconds_to_lifetime_end"] <= 7200
    assert 0 < sessions["server"]["seconds_to_idle_disconnect"] <= 3600
