"""Explain a GPU out-of-memory error: who holds the GPU's memory, and what to do about it.

A CUDA OOM does not kill the kernel, but it leaves users as lost as the host OOM killer does. When
PyTorch's (or JAX's, TensorFlow's) out-of-memory error reaches the user, colab-guard adds this
kernel's GPU memory, the GPU's total, and the other processes holding GPU memory — typically an
idle kernel of another notebook, named through the heartbeats kernels leave beside their snapshots.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..contract.heartbeat import Heartbeat, own_heartbeats, shared_heartbeats
from ..contract.units import human_bytes

REMEDIES = [
    "shut down kernels you no longer use (Kernel > Shut Down Kernel, or the Running panel)",
    "free what this kernel holds: del the tensors, then torch.cuda.empty_cache()",
    "use a smaller batch size, with gradient accumulation to keep the effective batch",
    "use mixed precision (torch.autocast) or smaller dtypes (bfloat16)",
]


def is_gpu_oom(exc: BaseException | None) -> bool:
    """PyTorch's OutOfMemoryError, JAX/XLA's RESOURCE_EXHAUSTED, TensorFlow's ResourceExhaustedError."""
    if exc is None:
        return False
    name = type(exc).__name__
    text = str(exc)
    if name == "OutOfMemoryError" and type(exc).__module__.startswith("torch"):
        return True
    if name == "ResourceExhaustedError":
        return True
    if name == "XlaRuntimeError" and "RESOURCE_EXHAUSTED" in text:
        return True
    return isinstance(exc, RuntimeError) and "CUDA out of memory" in text


def kernels_by_pid(snapshot_dir: str, shared: bool = False) -> dict[int, Heartbeat]:
    """The user's kernels' last heartbeats (pid, notebook, idle since), keyed by pid.

    With ``shared`` (``ColabGuard.shared_heartbeats``) other users' kernels too, each only where
    its pid is a process of the user whose heartbeat names it.
    """
    out: dict[int, Heartbeat] = {}
    for beat in own_heartbeats(snapshot_dir):
        if isinstance(beat.get("pid"), int) and not beat.get("clean_exit"):
            out[beat["pid"]] = beat
    for uid, beat in shared_heartbeats(snapshot_dir) if shared else []:
        pid = beat.get("pid")
        if isinstance(pid, int) and pid not in out and not beat.get("clean_exit") and _process_owner(pid) == uid:
            out[pid] = beat
    return out


def _process_owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def explain(gpus: list[dict[str, Any]], own_pids: set[int], kernels: dict[int, Heartbeat], now: float | None = None) -> str:
    """The explanation to show after the error, from an NVML reading and the kernels' heartbeats."""
    now = time.time() if now is None else now
    if not gpus:
        return "colab-guard could not read the GPUs (no NVIDIA driver visible to this kernel)."
    lines = []
    for gpu in gpus:
        procs = gpu.get("processes", [])
        mine = sum(p.get("used_memory") or 0 for p in procs if p["pid"] in own_pids)
        lines.append(
            f"GPU {gpu['index']} ({gpu['name']}): {human_bytes(gpu['memory_used'])} of {human_bytes(gpu['memory_total'])} in use; "
            f"this kernel holds {human_bytes(mine)}."
        )
        for proc in sorted((p for p in procs if p["pid"] not in own_pids), key=lambda p: -(p.get("used_memory") or 0)):
            held = human_bytes(proc["used_memory"]) if proc.get("used_memory") is not None else "an unknown amount"
            beat = kernels.get(proc["pid"])
            if beat:
                idle = beat.get("idle_since")
                state = (
                    "running a cell" if beat.get("executing") else (f"idle for {(now - idle) / 60:.0f} min" if idle else "idle")
                )
                lines.append(
                    f"  - the kernel of {beat.get('notebook') or 'another session'} (pid {proc['pid']}) holds {held}, {state}: "
                    "shut it down from its notebook (Kernel > Shut Down Kernel) or the Running panel to free it."
                )
            else:
                lines.append(f"  - process {proc['pid']} holds {held}.")
    lines.append("What usually helps: " + "; ".join(REMEDIES) + ".")
    return "\n".join(lines)
