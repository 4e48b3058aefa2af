"""XSRF protection of colab-guard's state-changing endpoint, exactly as jupyter_server's own.

A browser session is authenticated by a login cookie, so a request that changes something
(``DELETE /colab-guard/v1/snapshots/<key>/<id>``) must also carry the ``_xsrf`` cookie's value in the
``X-XSRFToken`` header (or an ``_xsrf`` argument); a request authenticated by its token in the
``Authorization`` header cannot be forged by another site and needs no XSRF token.
"""

import json
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from colab_guard.snapshot import take_snapshot


@pytest.fixture
def snapshot_dir(tmp_path):
    return tmp_path / "snapshots"


@pytest.fixture
def jp_server_config(jp_server_config, snapshot_dir, tmp_path):
    jp_server_config["ColabGuard"].update(snapshot_dir=str(snapshot_dir), usage_log_path=str(tmp_path / "usage.jsonl"))
    return jp_server_config


def cookies_of(response, jar: dict) -> dict:
    """Add the cookies a response sets to ``jar`` (name -> value), as a browser would."""
    for header in response.headers.get_list("Set-Cookie"):
        for name, morsel in SimpleCookie(header).items():
            jar[name] = morsel.value
    return jar


def cookie_header(jar: dict) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


async def browser_login(jp_fetch, token: str) -> dict:
    """Log in the way JupyterLab's login page does: GET /login for the _xsrf cookie, POST the token."""
    jar = cookies_of(await jp_fetch("login", headers={"Authorization": ""}, follow_redirects=False), {})
    assert "_xsrf" in jar
    response = await jp_fetch(
        "login",
        method="POST",
        body=urlencode({"password": token, "_xsrf": jar["_xsrf"]}),
        headers={"Authorization": "", "Cookie": cookie_header(jar)},
        follow_redirects=False,
        raise_error=False,
    )
    assert response.code == 302, response.code  # redirected to the app: logged in
    cookies_of(response, jar)
    assert set(jar) - {"_xsrf"}, "the login set no login cookie"
    return jar


async def make_snapshot(jp_fetch, snapshot_dir) -> tuple[str, str]:
    """A real snapshot on disk; its (key, id) as GET /snapshots lists it."""
    take_snapshot({"weights": [1.0, 2.0, 3.0]}, str(snapshot_dir), "train.ipynb")
    (listed,) = json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]
    return listed["key"], listed["id"]


async def snapshot_ids(jp_fetch) -> list[str]:
    return [s["id"] for s in json.loads((await jp_fetch("colab-guard", "v1", "snapshots")).body)["snapshots"]]


async def delete(jp_fetch, key, snapshot_id, headers):
    return await jp_fetch(
        "colab-guard",
        "v1",
        "snapshots",
        key,
        snapshot_id,
        method="DELETE",
        headers=headers,
        raise_error=False,
        follow_redirects=False,
    )


async def test_cookie_session_delete_needs_the_xsrf_header(jp_fetch, jp_serverapp, snapshot_dir):
    # Given a browser logged in with a cookie, and a snapshot
    jar = await browser_login(jp_fetch, jp_serverapp.identity_provider.token)
    key, snapshot_id = await make_snapshot(jp_fetch, snapshot_dir)
    cookies = {"Authorization": "", "Cookie": cookie_header(jar)}

    # When it DELETEs with its cookies only (what a forged cross-site request can do)
    response = await delete(jp_fetch, key, snapshot_id, cookies)
    # Then it is refused and the snapshot is still there
    assert response.code == 403
    assert "_xsrf" in json.loads(response.body)["message"]
    assert await snapshot_ids(jp_fetch) == [snapshot_id]

    # When the X-XSRFToken header carries a value other than its _xsrf cookie
    response = await delete(jp_fetch, key, snapshot_id, {**cookies, "X-XSRFToken": "2|00000000|" + "0" * 32 + "|1"})
    # Then it is refused too
    assert response.code == 403
    assert await snapshot_ids(jp_fetch) == [snapshot_id]

    # When it sends the _xsrf cookie's value in X-XSRFToken, as JupyterLab does
    response = await delete(jp_fetch, key, snapshot_id, {**cookies, "X-XSRFToken": jar["_xsrf"]})
    # Then the snapshot is deleted
    assert response.code == 204
    assert await snapshot_ids(jp_fetch) == []


async def test_cookie_session_delete_with_the_xsrf_argument(jp_fetch, jp_serverapp, snapshot_dir):
    # Given a logged-in browser session and a snapshot
    jar = await browser_login(jp_fetch, jp_serverapp.identity_provider.token)
    key, snapshot_id = await make_snapshot(jp_fetch, snapshot_dir)
    # When the _xsrf token comes as a query argument instead of the header
    response = await jp_fetch(
        "colab-guard", "v1", "snapshots", key, snapshot_id,
        method="DELETE", params={"_xsrf": jar["_xsrf"]},
        headers={"Authorization": "", "Cookie": cookie_header(jar)}, raise_error=False,
    )  # fmt: skip
    # Then it is accepted, as jupyter_server accepts it
    assert response.code == 204
    assert await snapshot_ids(jp_fetch) == []


async def test_token_header_delete_needs_no_xsrf(jp_fetch, jp_serverapp, snapshot_dir):
    # Given a snapshot, and no cookie at all
    key, snapshot_id = await make_snapshot(jp_fetch, snapshot_dir)
    # When a wrong token is sent in the Authorization header
    response = await delete(jp_fetch, key, snapshot_id, {"Authorization": "token not-the-token"})
    # Then it is refused and nothing is deleted
    assert response.code == 403
    assert await snapshot_ids(jp_fetch) == [snapshot_id]
    # When the server's token is sent in the Authorization header, without any XSRF token
    token = jp_serverapp.identity_provider.token
    response = await delete(jp_fetch, key, snapshot_id, {"Authorization": f"token {token}"})
    # Then it is accepted: a token header cannot be forged by another site
    assert response.code == 204
    assert await snapshot_ids(jp_fetch) == []


async def test_no_credentials_at_all_is_refused(jp_fetch, snapshot_dir):
    key, snapshot_id = await make_snapshot(jp_fetch, snapshot_dir)
    response = await delete(jp_fetch, key, snapshot_id, {"Authorization": ""})
    assert response.code == 403
    assert await snapshot_ids(jp_fetch) == [snapshot_id]
