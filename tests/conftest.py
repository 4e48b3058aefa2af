"""Fixtures for every test: a real jupyter_server with colab-guard, NVML recordings, real cgroups."""

import os

import pytest
from cgroup_helpers import memory_cgroup, slow_disk  # noqa: F401 - real cgroups, for every folder
from helpers import DATA

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config(jp_server_config):
    """A real jupyter_server with colab-guard enabled, sampling fast so tests need not wait."""
    return {
        "ServerApp": {"jpserver_extensions": {"colab_guard": True}},
        "ColabGuard": {"sample_interval": 0.1},
    }


@pytest.fixture
def nvml_recording():
    """Path of a recorded NVML reading by name (t4, a100x2)."""
    return lambda name: os.path.join(DATA, "nvml", f"{name}.json")
