"""Every colab-guard route refuses requests without a valid token, even where a route forgot to say so."""

import pytest
from helpers import fetch_without_token

from colab_guard.server.routes import ROUTES


@pytest.fixture
def jp_server_config(jp_server_config):
    # As the extension template's CI check does: any handler lacking authentication fails to serve.
    jp_server_config["ServerApp"]["allow_unauthenticated_access"] = False
    return jp_server_config


def example(pattern: str) -> list[str]:
    """URL parts for a route pattern, its parameters filled in."""
    return pattern.replace("([^/]+)", "x").strip("/").split("/")


ROUTE_PATTERNS = [pattern for pattern, *_ in ROUTES]


@pytest.mark.parametrize("route", ROUTE_PATTERNS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_route_refuses_without_token(jp_fetch, route, method):
    error = await fetch_without_token(jp_fetch, example(route), method)
    # refused before any method is looked up, whether the handler serves it or not
    assert error.code == 403
    assert b"working_set" not in (error.response.body or b"")


@pytest.mark.parametrize("route", [r for r in ROUTE_PATTERNS if "(" not in r])
async def test_route_answers_with_token(jp_fetch, route):
    response = await jp_fetch(*example(route))
    assert response.code == 200
