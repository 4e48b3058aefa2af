"""The hard limit (``hard_limit``): RLIMIT_DATA kept just above what the container can still give."""

from __future__ import annotations


def set_data_limit(headroom: float) -> int | None:
    """Let this process map at most ``headroom`` more bytes of data (RLIMIT_DATA, soft limit).

    RLIMIT_DATA counts private writable mappings (Linux >= 4.7), which is where numpy's and
    PyTorch's large buffers live: a larger allocation then fails with MemoryError (numpy) or
    RuntimeError (PyTorch's CPU allocator). Returns the limit set, or None where it cannot be set.
    """
    try:
        import resource

        with open("/proc/self/status") as f:
            vmdata = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmData:"))
        soft = vmdata + max(int(headroom), 0)
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
        return soft
    except (ImportError, OSError, ValueError, StopIteration):
        return None
