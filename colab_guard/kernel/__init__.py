"""The kernel extension: the memory watcher, ``%guard`` magics and the Python API behind them."""

from .extension import get_guard, load, unload
from .guard import Guard

__all__ = ["Guard", "get_guard", "load", "unload"]
