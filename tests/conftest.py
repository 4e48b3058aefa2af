import os

import psutil
import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)

DATA = os.path.join(os.path.dirname(__file__), "data")


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
