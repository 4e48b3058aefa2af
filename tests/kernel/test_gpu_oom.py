"""The GPU out-of-memory explanation, fed recorded NVML readings, in a real kernel of a real server."""

import asyncio
import json
import os
import time

import pytest
from kernel_helpers import start_notebook_kernel

from colab_guard.kernel.gpu_oom import explain, is_gpu_oom
from colab_guard.readers.nvml import GpuReader
from colab_guard.readers.nvml_replay import ReplayNvml

GiB = 1 << 30


def test_recognises_the_frameworks_errors():
    torch = pytest.importorskip("torch")
    assert is_gpu_oom(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_gpu_oom(RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 14.75 GiB total capacity)"))
    assert not is_gpu_oom(RuntimeError("shape mismatch")) and not is_gpu_oom(MemoryError()) and not is_gpu_oom(None)
    xla = type("XlaRuntimeError", (RuntimeError,), {})
    assert is_gpu_oom(xla("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 4294967296 bytes."))


def test_names_the_idle_kernel_holding_memory(nvml_recording):
    gpus = GpuReader(ReplayNvml(nvml_recording("a100x2"))).read().gpus
    now = time.time()
    kernels = {4343: {"pid": 4343, "notebook": "/home/ada/old-experiment.ipynb", "executing": False, "idle_since": now - 40 * 60}}
    text = explain(gpus, {4242}, kernels, now)
    assert "GPU 0 (NVIDIA A100-SXM4-40GB): 29.4 GiB of 40.0 GiB in use; this kernel holds 21.5 GiB." in text
    assert "the kernel of /home/ada/old-experiment.ipynb (pid 4343) holds 7.5 GiB, idle for 40 min" in text
    assert "Shut Down Kernel" in text and "torch.cuda.empty_cache()" in text and "gradient accumulation" in text


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path, nvml_recording):
    recording = tmp_path / "gpu.json"
    with open(nvml_recording("a100x2")) as f:
        recording.write_text(f.read())
    jp_server_config["ColabGuard"]["nvml_recording"] = str(recording)
    return jp_server_config


async def test_cuda_oom_in_a_kernel_is_explained(jp_fetch, jp_serverapp, tmp_path):
    torch = pytest.importorskip("torch")  # noqa: F841 - the kernel imports it
    mine = await start_notebook_kernel(jp_fetch, jp_serverapp, "train.ipynb")
    other = await start_notebook_kernel(jp_fetch, jp_serverapp, "old-experiment.ipynb")
    try:
        await other.run("x = 1")  # then left idle
        pids = [jp_serverapp.kernel_manager.get_kernel(k.id).provisioner.process.pid for k in (mine, other)]
        # The GPU as NVML would report it: the two kernels hold 21.5 and 7.5 GiB of GPU 0
        recording = json.loads((tmp_path / "gpu.json").read_text())
        for proc, pid in zip(recording["devices"][0]["compute_processes"], pids):
            proc["pid"] = pid
        (tmp_path / "gpu.json").write_text(json.dumps(recording))
        await asyncio.sleep(2.5)  # both watchers have written a heartbeat
        out = await mine.run('import torch\nraise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")')
        assert out["error"].startswith("OutOfMemoryError")  # the user's own error is still shown
        (text,) = [d["text/plain"] for d in out["data"] if "GPU out of memory" in d.get("text/plain", "")]
        assert "this kernel holds 21.5 GiB" in text
        assert f"old-experiment.ipynb (pid {pids[1]}) holds 7.5 GiB, idle for 0 min" in text
    finally:
        mine.stop()
        other.stop()
    assert os.path.exists(tmp_path / "gpu.json")
