"""Small helpers shared by the tests: the recorded data, file trees, processes' command lines."""

import os

import psutil
import pytest
from tornado.httpclient import HTTPClientError

from colab_guard.readers.memory import MemoryReader

DATA = os.path.join(os.path.dirname(__file__), "data")
GiB = 1 << 30


def write_tree(root, files: dict) -> str:
    """Lay out {relative path: text} under ``root`` and return root as a string."""
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return str(root)


class Container:
    """A cgroup v2 container limited to 4 GiB whose usage the test sets."""

    def __init__(self, tmp_path):
        self.root = write_tree(
            os.path.join(tmp_path, "fs"),
            {
                "proc/self/cgroup": "0::/\n",
                "proc/meminfo": "MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n",
                "sys/cgroup.controllers": "memory\n",
                "sys/memory.max": f"{4 * GiB}\n",
                "sys/memory.current": "0\n",
                "sys/memory.stat": "inactive_file 0\n",
                "sys/memory.events": "oom_kill 0\n",
            },
        )

    def use(self, percent):
        with open(os.path.join(self.root, "sys", "memory.current"), "w") as f:
            f.write(str(int(4 * GiB * percent / 100)))

    def reader(self):
        return MemoryReader(f"{self.root}/sys", f"{self.root}/proc", env={})


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


def to_json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type."""
    if isinstance(node, dict):
        out = {k: to_json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    return node


def openapi_validator(*path: str):
    """A JSON Schema validator of the part of colab-guard's OpenAPI file at ``path``, its refs resolved."""
    import jsonschema
    import yaml

    from colab_guard.server import routes

    with open(os.path.join(os.path.dirname(routes.__file__), "openapi.yaml")) as f:
        spec = yaml.safe_load(f)
    node = spec
    for key in path:
        node = node[key]
    return jsonschema.Draft4Validator({**to_json_schema(node), "components": to_json_schema(spec["components"])})
