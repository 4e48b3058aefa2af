"""Small helpers shared by the tests: the recorded data, file trees, processes' command lines."""

import os

import psutil
import pytest
from tornado.httpclient import HTTPClientError

DATA = os.path.join(os.path.dirname(__file__), "data")


def write_tree(root, files: dict) -> str:
    """Lay out {relative path: text} under ``root`` and return root as a string."""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return str(root)


def cmdline(process: psutil.Process) -> list[str]:
    """A process's command line; [] for one that exited meanwhile (a zombie has none)."""
    try:
        return process.cmdline()
    except psutil.Error:
        return []


async def fetch_without_token(jp_fetch, parts, method: str):
    """A request with no valid token, of any method; returns the HTTPClientError it must raise."""
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            *parts,
            method=method,
            headers={"Authorization": ""},
            follow_redirects=False,
            allow_nonstandard_methods=True,
            body=None if method in ("GET", "DELETE") else b"{}",
        )
    return err.value
