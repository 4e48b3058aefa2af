"""colab-guard: know your runtime's accelerator, memory headroom and limits; never lose your variables."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    import warnings

    warnings.warn("Importing 'colab_guard' outside a proper installation.", stacklevel=2)
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "colab-guard"}]


def _jupyter_server_extension_points():
    from .server.extension import ColabGuard

    return [{"module": "colab_guard", "app": ColabGuard}]


def load_ipython_extension(shell):
    """``%load_ext colab_guard``: watch memory, snapshot before the OOM killer, ``%guard`` magics."""
    from .kernel.extension import load

    load(shell)


def unload_ipython_extension(shell):
    from .kernel.extension import unload

    unload(shell)
