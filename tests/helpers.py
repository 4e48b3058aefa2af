"""Small helpers shared by the tests: the recorded data, file trees, processes' command lines."""

import os

import psutil

DATA = os.path.join(os.path.dirname(__file__), "data")


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
