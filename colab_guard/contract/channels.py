"""The names of every channel between the server, its kernels and the outside that is not a file:
environment variables and the signal. The files have their own modules (``paths``, ``heartbeat``,
``manifests``, ``server_state``); the settings' variables come from the settings table.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping

# what a kernel's watcher does on this signal: snapshot now, the server is about to shut it down
SNAPSHOT_REQUEST_SIGNAL: signal.Signals | None = getattr(signal, "SIGUSR1", None)  # none on Windows

# which notebook a kernel runs: jupyter_server's name for it, else one set by hand (Colab, tests)
NOTEBOOK_VARIABLES = ("JPY_SESSION_NAME", "COLAB_GUARD_NOTEBOOK")
# where %guard config remembers settings, instead of Drive or the Jupyter config dir
SETTINGS_FILE_VARIABLE = "COLAB_GUARD_SETTINGS_FILE"
# where Google Drive's "My Drive" is mounted, instead of Colab's place
DRIVE_VARIABLE = "COLAB_GUARD_DRIVE"
# where to ask for the runtime's sessions, instead of Colab's own server
SESSIONS_URL_VARIABLE = "COLAB_GUARD_SESSIONS_URL"
# each setting a kernel reads: COLAB_GUARD_ and its name (the settings table has them all)
SETTING_PREFIX = "COLAB_GUARD_"


def setting_variable(name: str) -> str:
    """The environment variable that carries the setting ``name`` to a kernel."""
    return SETTING_PREFIX + name.upper()


def notebook_from_env(env: Mapping[str, str]) -> str | None:
    """The notebook a kernel's environment names, if any."""
    return next((env[name] for name in NOTEBOOK_VARIABLES if env.get(name)), None)
