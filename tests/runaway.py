"""The one runaway cell the tests and benchmarks run: memory growing at a steady rate until stopped or killed."""

# Defines grow(rate, limit, prefill, chunk_mib) in the kernel: fills memory quickly to ``prefill``
# of ``limit``, then allocates ``chunk_mib`` MiB every chunk/rate seconds, forever.
GROW = """
import time as _time
import numpy as _np

def grow(rate, limit=0, prefill=0.0, chunk_mib=20):
    chunks, n = [], (chunk_mib << 20) // 8
    while len(chunks) * (chunk_mib << 20) < prefill * limit:
        chunks.append(_np.ones(n))
    pause = (chunk_mib << 20) / rate
    while True:
        chunks.append(_np.ones(n))
        _time.sleep(pause)
"""


def grow_call(rate: float, limit: int = 0, prefill: float = 0.0) -> str:
    """The call that runs ``grow`` (defined by ``GROW`` in an earlier cell): one line, the cell's first."""
    return f"grow({rate!r}, {limit}, {prefill})"


def grow_cell(rate: float, limit: int = 0, prefill: float = 0.0) -> str:
    """A cell that defines ``grow`` and runs it: memory grows at ``rate`` bytes/s after ``prefill`` of ``limit``."""
    return f"{GROW}\n{grow_call(rate, limit, prefill)}"
