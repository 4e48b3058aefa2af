"""Stopping a runaway cell, not the kernel: an exception raised in the kernel's main thread.

``MemoryLimitInterrupt`` derives from ``BaseException``, like ``KeyboardInterrupt``, so that an
ordinary ``except Exception`` in the user's code does not swallow it by accident. It is raised
asynchronously (``PyThreadState_SetAsyncExc``): Python checks for it between bytecodes, so a loop
that allocates chunk after chunk is stopped at its next step; a single huge allocation inside one C
call cannot be interrupted (see the README).
"""

from __future__ import annotations

import ctypes


class MemoryLimitInterrupt(BaseException):
    """colab-guard stopped the running cell because memory was about to run out."""

    message = "colab-guard stopped this cell: memory was about to run out."

    def __str__(self) -> str:
        return self.message


def interrupt_thread(ident: int, message: str) -> bool:
    """Raise a ``MemoryLimitInterrupt`` carrying ``message`` in thread ``ident`` at its next bytecode."""
    # The exception is raised from a class, so the message travels on a one-off subclass.
    exc = type("MemoryLimitInterrupt", (MemoryLimitInterrupt,), {"message": message, "__module__": __name__})
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc))
    if done > 1:  # more than one thread state matched: undo, as the C API documents
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)
        return False
    return bool(done == 1)
