"""Server configuration for the integration tests.

!! Never use this configuration in production: it opens the server to the
world and exposes JupyterLab's JavaScript objects on the window.
"""

from tempfile import mkdtemp

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is injected by the config loader)

# Notebook 7's pages (/notebooks/<path>) expose their app as JupyterLab's do.
c.JupyterNotebookApp.expose_app_in_browser = True  # noqa: F821

# CI containers run as root.
c.ServerApp.allow_root = True  # noqa: F821

# Idle culling on, long enough never to fire during a run: the panel's kernel
# countdowns then have something to count down (checked by the UI tests).
c.MappingKernelManager.cull_idle_timeout = 600  # noqa: F821
c.MappingKernelManager.cull_interval = 60  # noqa: F821

# Snapshots of the test kernels go to a throwaway folder, not the user's data dir.
c.ColabGuard.snapshot_dir = mkdtemp(prefix="colab-guard-ui-snapshots-")  # noqa: F821

# Uncomment to set the server log level to debug
# c.ServerApp.log_level = "DEBUG"
