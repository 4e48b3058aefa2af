"""Tests of the kernel side: servers whose kernels are real ipykernels with the watcher."""

import pytest


@pytest.fixture
def jp_server_config(jp_server_config, tmp_path):
    """Real python3 kernels (pytest-jupyter's default is an echo kernel) and a private snapshot dir."""
    jp_server_config["MultiKernelManager"] = {"default_kernel_name": "python3"}
    jp_server_config["ColabGuard"]["snapshot_dir"] = str(tmp_path / "snapshots")
    # these tests count and time snapshots; background snapshots have tests of their own
    jp_server_config["ColabGuard"]["background_snapshots"] = False
    return jp_server_config
