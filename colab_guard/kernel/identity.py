"""Which notebook this kernel runs: snapshots and post-mortems are filed per notebook.

jupyter_server tells its kernels through ``JPY_SESSION_NAME``. Colab's hosted runtime does not;
there the runtime's own Jupyter server (``http://172.28.0.2:9000``, reachable from the kernel
without a token) lists its sessions, each with the kernel it runs, the notebook's name and, as its
path, ``fileId=<Google Drive file id>``. The kernel finds its own session by its kernel id (the
connection file is ``kernel-<id>.json``), so that another notebook's session is never taken for
this one. The file id is the identity (a rename keeps it); the name is for display.

A kernel that cannot tell gets an identity of its own (``kernel_notebook``): it never restores
another notebook's variables unless the user names the snapshot.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..contract.channels import SESSIONS_URL_VARIABLE, notebook_from_env
from ..contract.files import parse_json
from ..contract.paths import kernel_notebook
from ..readers.environment import detect_environment

# Colab's hosted runtime: its Jupyter server, as public notebooks read it.
COLAB_SESSIONS_URL = "http://172.28.0.2:9000/api/sessions"
TIMEOUT = 1.0
_KERNEL_FILE = re.compile(r"kernel-([0-9a-fA-F-]{8,})\.json$")


@dataclass
class Identity:
    """``notebook``: the key snapshots are filed under; ``name``: what to call it; ``source``: how it is known."""

    notebook: str
    name: str | None
    source: str
    known: bool  # False: a per-kernel identity, no notebook known
    kernel_id: str | None = None


def kernel_id(connection_file: str | None = None) -> str | None:
    """This kernel's id, from its connection file's name (``kernel-<id>.json``, as Jupyter servers name it)."""
    if connection_file is None:
        try:
            from ipykernel.kernelapp import IPKernelApp

            if not IPKernelApp.initialized():
                return None  # not a kernel: plain IPython, a terminal
            connection_file = IPKernelApp.instance().connection_file
        except Exception:  # noqa: BLE001 - another traitlets application, an older ipykernel: no kernel id
            return None
    match = _KERNEL_FILE.search(os.path.basename(connection_file or ""))
    return match.group(1) if match else None


def sessions_url(env: Mapping[str, str] | None = None) -> str | None:
    """Where to ask for this runtime's sessions: ``COLAB_GUARD_SESSIONS_URL``, else Colab's own server
    on a Colab runtime, else nowhere (a plain machine has no such server to ask)."""
    env = os.environ if env is None else env
    if env.get(SESSIONS_URL_VARIABLE):
        return env[SESSIONS_URL_VARIABLE]
    return COLAB_SESSIONS_URL if detect_environment(env)["kind"] == "colab" else None


def session_of(sessions: object, kernel: str) -> dict[str, Any] | None:
    """The one session whose kernel is ``kernel``; None if there is none, or more than one."""
    if not isinstance(sessions, list):
        return None
    mine = [s for s in sessions if isinstance(s, dict) and isinstance(s.get("kernel"), dict) and s["kernel"].get("id") == kernel]
    return mine[0] if len(mine) == 1 else None


def from_session(session: dict[str, Any], url: str) -> Identity | None:
    """The identity a session gives: Colab's Drive file id, or a Jupyter server's notebook path."""
    path = session.get("path")
    name = session.get("name")
    name = urllib.parse.unquote(name) if isinstance(name, str) and name else None
    if not isinstance(path, str) or not path:
        return None
    host = urllib.parse.urlsplit(url).netloc
    if path.startswith("fileId="):
        file_id = urllib.parse.unquote(path[len("fileId=") :])
        if not file_id:
            return None
        return Identity(f"colab/{file_id}", name or file_id, f"Colab's session list ({host}): Drive file {file_id}", True)
    return Identity(path, name or os.path.basename(path), f"the Jupyter server's session list ({host})", True)


def _read_json_within(url: str, timeout: float) -> Any:
    """The JSON answer of ``url`` (at most 1 MiB) within ``timeout`` seconds in all, else None.

    urlopen's timeout is per socket read: a server that drips bytes would hold the kernel's start
    for as long as it likes, so the request runs on a thread given the whole deadline.
    """
    answer: list[Any] = []

    def fetch() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                answer.append(parse_json(response.read(1 << 20)))
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=fetch, name="colab-guard-identity", daemon=True)
    thread.start()
    thread.join(timeout)
    return answer[0] if answer else None


def ask_sessions(url: str, kernel: str, timeout: float = TIMEOUT) -> Identity | None:
    """This kernel's notebook, from a Jupyter server's ``GET /api/sessions``; None where it cannot tell."""
    sessions = _read_json_within(url, timeout)
    if sessions is None:
        return None
    session = session_of(sessions, kernel)
    return None if session is None else from_session(session, url)


def resolve(env: Mapping[str, str] | None = None, connection_file: str | None = None, ask: bool = True) -> Identity:
    """This kernel's identity: ``JPY_SESSION_NAME``, its session on the runtime's server, or its own."""
    env = os.environ if env is None else env
    kernel = kernel_id(connection_file)
    named = notebook_from_env(env)
    if named:
        return Identity(named, os.path.basename(named), "JPY_SESSION_NAME (set by the Jupyter server)", True, kernel)
    url = sessions_url(env)
    if ask and kernel and url:
        found = ask_sessions(url, kernel)
        if found is not None:
            found.kernel_id = kernel
            return found
    own = kernel or f"pid{os.getpid()}"
    why = "no JPY_SESSION_NAME" + (
        f", and no session of kernel {kernel} at {url}" if kernel and url else "" if kernel else ", and no kernel id"
    )
    return Identity(kernel_notebook(own), None, f"unknown: {why}; this kernel files its snapshots apart", False, kernel)
