"""Settings an admin fixes for everyone: read from the system-wide Jupyter config only.

Traitlets lets a user's own config (~/.jupyter) override the system-wide one (/etc/jupyter,
{sys.prefix}/etc/jupyter). For the settings where that matters — enforcement, the policy limits,
what the watcher may do — colab-guard re-applies the admin's value, so a user cannot loosen it.
"""

from __future__ import annotations

import glob
import os

import jupyter_core.paths
from traitlets.config.loader import Config, JSONFileConfigLoader, PyFileConfigLoader

from ..contract.settings import SETTINGS

# The settings a user cannot override once an admin has set them system-wide.
ADMIN_FIXED = tuple(s.name for s in SETTINGS if s.admin)


def system_config_dirs() -> list[str]:
    """The admin's config dirs: {sys.prefix}/etc/jupyter and /etc/jupyter-like system paths."""
    return [*jupyter_core.paths.ENV_CONFIG_PATH, *jupyter_core.paths.SYSTEM_CONFIG_PATH]


def admin_settings(dirs: list[str] | None = None) -> dict:
    """ColabGuard settings found in the system-wide config files, with the file each came from."""
    found: dict = {}
    for directory in reversed(dirs if dirs is not None else system_config_dirs()):  # the first dir wins
        files = sorted(glob.glob(os.path.join(directory, "jupyter_server_config.d", "*.json")))
        for base in ("jupyter_config", "jupyter_server_config"):
            files += [os.path.join(directory, base + ext) for ext in (".json", ".py")]
        for path in files:
            section = _load(path).get("ColabGuard", {})
            for name, value in section.items():
                if name in ADMIN_FIXED:
                    found[name] = (value, path)
    return found


def _load(path: str) -> Config:
    if not os.path.isfile(path):
        return Config()
    loader = (JSONFileConfigLoader if path.endswith(".json") else PyFileConfigLoader)(
        os.path.basename(path), os.path.dirname(path)
    )
    try:
        return loader.load_config()
    except Exception:  # noqa: BLE001 - a broken admin file: jupyter_server reports it itself
        return Config()
