"""Drive a real ipykernel started by the real jupyter_server under test."""

import asyncio
import json


def collect(out: dict, msg: dict) -> bool:
    """Add one iopub message of a cell to ``out`` (text, rich data, display updates, error); True once idle."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "stream":
        out["text"] += content["text"]
    elif kind in ("display_data", "execute_result"):
        out["data"].append(content["data"])
        if "displays" in out and content.get("transient", {}).get("display_id"):
            out["displays"].append(content)
    elif kind == "update_display_data" and "updates" in out:
        out["updates"].append(content)
    elif kind == "error":
        out["error"] = f"{content['ename']}: {content['evalue']}"
    elif kind == "execute_input":
        out["number"] = content.get("execution_count")  # the number the front end shows: [7]
    return kind == "status" and content["execution_state"] == "idle"


class Kernel:
    """A kernel of a notebook session, with a client to run code in it."""

    def __init__(self, serverapp, kernel_id, path):
        self.serverapp, self.id, self.path = serverapp, kernel_id, path
        self.client = None

    async def connect(self, timeout=60):
        self.stop()  # after a restart: a fresh client
        manager = self.serverapp.kernel_manager.get_kernel(self.id)
        self.client = manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=timeout)
        return self

    async def run(self, code: str, timeout: float = 60) -> dict:
        """Execute code; returns its text output, its rich outputs and any error."""
        msg_id = self.client.execute(code)
        out = {"text": "", "data": [], "error": None}
        while True:
            msg = await asyncio.wait_for(self.client.get_iopub_msg(), timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if collect(out, msg):
                return out

    def stop(self):
        if self.client is not None:
            self.client.stop_channels()
            self.client = None


async def start_notebook_kernel(jp_fetch, serverapp, path="analysis.ipynb") -> Kernel:
    """Start a kernel the way JupyterLab does for a notebook: through a session."""
    body = json.dumps({"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}})
    response = await jp_fetch("api", "sessions", method="POST", body=body)
    kernel_id = json.loads(response.body)["kernel"]["id"]
    return await Kernel(serverapp, kernel_id, path).connect()


async def wait_for_postmortem(jp_fetch, kernel_id: str, timeout: float = 60) -> dict | None:
    """The server's post-mortem of a kernel, once it has died (None if it did not within ``timeout``)."""
    for _ in range(int(timeout / 0.5)):
        await asyncio.sleep(0.5)
        try:
            return json.loads((await jp_fetch("colab-guard", "v1", "kernels", kernel_id, "postmortem")).body)
        except Exception:  # noqa: BLE001 - 404 until the kernel has died
            continue
    return None
