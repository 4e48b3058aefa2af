"""The architecture holds: the server reads the kernels' files through the contract, never the snapshot engine."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LOAD_SERVER = """
import json, sys, tempfile
from jupyter_server.serverapp import ServerApp
app = ServerApp()
root = tempfile.mkdtemp()
app.initialize(argv=["--ServerApp.jpserver_extensions={'colab_guard': True}", f"--ServerApp.root_dir={root}",
                     f"--ColabGuard.snapshot_dir={root}/snaps", "--ServerApp.port_retries=0", "--ServerApp.port=0"])
loaded = [e for e in app.extension_manager.extensions if app.extension_manager.extensions[e].enabled]
print(json.dumps({"loaded": loaded, "modules": sorted(sys.modules)}))
app.extension_manager.extensions["colab_guard"].extension_points["colab_guard"].app.sampler.stop()
"""


def test_loading_the_server_extension_imports_neither_numpy_nor_the_pickler(tmp_path):
    # Given a fresh interpreter that only loads the server extension into a real ServerApp
    out = subprocess.run([sys.executable, "-c", LOAD_SERVER], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    # Then colab-guard is loaded, and nothing of the kernel side came with it
    assert "colab_guard" in report["loaded"]
    modules = set(report["modules"])
    assert "colab_guard.server.extension" in modules
    assert not {"numpy", "xxhash"} & modules
    assert not [m for m in modules if m.startswith(("colab_guard.snapshot", "colab_guard.kernel"))]


def modules_of(*packages: str) -> list[str]:
    """Every module of colab-guard's ``packages``, by its dotted name."""
    return sorted(
        f"colab_guard.{package}.{name[:-3]}"
        for package in packages
        for name in os.listdir(os.path.join(ROOT, "colab_guard", package))
        if name.endswith(".py") and name != "__init__.py"
    )


def test_the_contract_and_the_usage_arithmetic_need_only_the_standard_library(tmp_path):
    # Given a fresh interpreter importing every module of the on-disk contract and of usage/
    modules = modules_of("contract", "usage")
    assert "colab_guard.contract.server_state" in modules and "colab_guard.usage.diagnosis" in modules
    code = f"import sys; base = set(sys.modules)\nimport {', '.join(modules)}\nprint('\\n'.join(sorted(set(sys.modules) - base)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    # Then every module it brought is colab-guard's own or the standard library's
    foreign = [
        m for m in out.stdout.split() if not m.startswith("colab_guard") and m.split(".")[0] not in sys.stdlib_module_names
    ]
    assert foreign == []


def test_the_kernel_side_never_imports_the_server(tmp_path):
    # Given a fresh interpreter importing every module of the kernel side and the snapshot engine
    modules = modules_of("kernel", "snapshot")
    code = f"import sys\nimport {', '.join(modules)}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    # Then no module of the server extension (nor jupyter_server) came with them
    assert [m for m in out.stdout.split() if m.startswith(("colab_guard.server", "jupyter_server"))] == []
