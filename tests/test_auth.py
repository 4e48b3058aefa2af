"""Every colab-guard route refuses requests without a valid token, even where a route forgot to say so."""

import pytest
from tornado.httpclient import HTTPClientError

from colab_guard.handlers import ROUTES


@pytest.fixture
def jp_server_config(jp_server_config):
    # As the extension template's CI check does: any handler lacking authentication fails to serve.
    jp_server_config["ServerApp"]["allow_unauthenticated_access"] = False
    return jp_server_config


@pytest.mark.parametrize("route", [pattern for pattern, *_ in ROUTES])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_route_refuses_without_token(jp_fetch, route, method):
    parts = route.strip("/").split("/")
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(*parts, method=method, headers={"Authorization": ""}, follow_redirects=False, allow_nonstandard_methods=True, body=None if method in ("GET", "DELETE") else b"{}")
    assert err.value.code in (403, 405)
    if method == "GET":
        assert err.value.code == 403


@pytest.mark.parametrize("route", [pattern for pattern, *_ in ROUTES])
async def test_route_answers_with_token(jp_fetch, route):
    response = await jp_fetch(*route.strip("/").split("/"))
    assert response.code == 200
