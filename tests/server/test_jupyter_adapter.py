"""What colab-guard reads from jupyter_server without a public API still exists, on a real server."""

import time

import pytest
from kernel_helpers import start_notebook_kernel

from colab_guard.server.jupyter_adapter import culler_next_check, kernel_connections, kernel_launch_env, kernel_process


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
    jp_server_config["MappingKernelManager"] = {"cull_idle_timeout": 600, "cull_interval": 30}
    jp_server_config["ColabGuard"]["snapshot_dir"] = str(tmp_path / "snapshots")
    return jp_server_config


async def test_the_adapter_reads_a_real_kernel_and_culler(jp_fetch, jp_serverapp):
    # Given a real notebook kernel on a server that culls idle kernels every 30 s
    kernel = await start_notebook_kernel(jp_fetch, jp_serverapp, "adapter.ipynb")
    try:
        km = jp_serverapp.kernel_manager
        managed = km.get_kernel(kernel.id)
        # Then the culler's next check lies within one cull interval from now
        now = time.time()
        next_check = culler_next_check(km, now)
        assert next_check is not None and now <= next_check <= now + 30.5
        # And the kernel's process, launch environment, extra arguments and connections are readable
        assert kernel_process(managed).pid > 0 and kernel_process(managed).poll() is None
        env, extra_arguments = kernel_launch_env(managed)
        assert env["JPY_SESSION_NAME"].endswith("adapter.ipynb")
        assert "--ext=colab_guard" in extra_arguments
        assert kernel_connections(km, kernel.id) == 0
    finally:
        kernel.stop()
