"""Why the GPU sits idle: the one cause the measurements point to, with the figures it rests on.

Input: the samples of one run of low GPU utilisation (the GPU under the threshold while holding
memory). Each sample is a dict::

    gpus         NVML readings: utilization_gpu, memory_used, memory_total, pcie_rx / pcie_tx
                 (bytes/s host-to-device / device-to-host, None where NVML has no counters)
    executing    whether a cell was running (None: unknown)
    idle_seconds seconds since the last cell finished (None: unknown, or running)
    cpu          the kernel process's CPU, percent of one core (None: unknown)
    cpu_demand   how much of the time its busiest thread ran or waited for a core, percent
    workers_cpu  its child processes' CPU together (data-loader workers), percent of one core
    workers_demand  the same demand, added up over its child processes
    workers      how many child processes it has
    cpus         the cores this kernel may use (None: unknown)
    held         GPU memory the kernel's processes hold, bytes (None: not attributable)
    kernels      how many kernels the server runs (server side; 0: the memory is held elsewhere)

The causes, in the order they are tried:

0. ``held-elsewhere``: no kernel at all while GPU memory is held (the server's view).
1. ``idle-kernel``: no cell running while GPU memory is held: shut it down.
2. ``host-to-device``: a cell running with heavy PCIe traffic into the GPU.
3. ``input-pipeline``: a cell running with the kernel, or its workers, or both together on every
   core it may use, CPU-bound: the median of the samples at 85 % of a core or more, counting
   what the threads wanted (running or waiting for a core) where schedstat says it.
4. ``small-batch``: a cell running, the CPU not saturated, GPU memory used far below the card's.
5. ``unknown``: none of these signatures; the figures are still given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A process using this share of one core is CPU-bound (Python's main thread cannot go past 100 %).
SATURATED_PERCENT = 85.0
# Host-to-device traffic this heavy, with the GPU idle, means copies dominate the step.
HEAVY_PCIE_BYTES = 1 << 30
# GPU memory in use under this share of the card's: the work given to it is small for its size.
SMALL_MEMORY_SHARE = 0.25
# This share of the samples must agree for a cause to be named.
MAJORITY = 0.8

GiB = 1 << 30


@dataclass
class Diagnosis:
    """One cause, the message for the user, and the figures it rests on."""

    cause: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "message": self.message, "evidence": self.evidence}


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _median(values: list[float]) -> float | None:
    """CPU figures: the median, which one sample taken as a process started does not drag down."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _known(samples: list[dict[str, Any]], key: str) -> list[float]:
    return [float(s[key]) for s in samples if s.get(key) is not None]


def _gpu_figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-sample maxima over the GPUs, averaged over the samples."""
    util, used, total, rx, tx = [], [], [], [], []
    for s in samples:
        gpus = s.get("gpus") or []
        util += (
            [max(g["utilization_gpu"] for g in gpus if g.get("utilization_gpu") is not None)]
            if any(g.get("utilization_gpu") is not None for g in gpus)
            else []
        )
        busiest = max(gpus, key=lambda g: g.get("memory_used") or 0, default=None)
        if busiest is not None and busiest.get("memory_total"):
            used.append(float(busiest.get("memory_used") or 0))
            total.append(float(busiest["memory_total"]))
        rx += (
            [sum(g["pcie_rx"] for g in gpus if g.get("pcie_rx") is not None)]
            if any(g.get("pcie_rx") is not None for g in gpus)
            else []
        )
        tx += (
            [sum(g["pcie_tx"] for g in gpus if g.get("pcie_tx") is not None)]
            if any(g.get("pcie_tx") is not None for g in gpus)
            else []
        )
    return {
        "gpu_utilization": _round(_mean(util)),
        "gpu_memory_used": None if not used else int(_mean(used) or 0),
        "gpu_memory_total": None if not total else int(_mean(total) or 0),
        "pcie_rx_bytes_per_second": None if not rx else int(_mean(rx) or 0),
        "pcie_tx_bytes_per_second": None if not tx else int(_mean(tx) or 0),
    }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def current(samples: list[dict[str, Any]], least: int = 3) -> list[dict[str, Any]]:
    """The samples since the cell state last changed (a cell started or ended), if there are ``least``
    of them: the cause is what happens now, not an average with what happened before."""
    if not samples or samples[-1].get("executing") is None:
        return samples
    state = samples[-1]["executing"]
    n = 0
    for sample in reversed(samples):
        if sample.get("executing") != state:
            break
        n += 1
    return samples[-n:] if n >= least else samples


def diagnose(samples: list[dict[str, Any]], threshold: float = 10.0, seconds: float | None = None) -> Diagnosis:
    """The cause the samples of one run of low utilisation point to (see the module's docstring)."""
    samples = current(samples)
    gpu = _gpu_figures(samples)
    evidence: dict[str, Any] = {"samples": len(samples), "minutes": _round(None if seconds is None else seconds / 60), **gpu}
    busy = f"{gpu['gpu_utilization']:.0f}% busy" if gpu["gpu_utilization"] is not None else "idle"
    held_bytes = _mean(_known(samples, "held"))
    holding = held_bytes if held_bytes else gpu["gpu_memory_used"]
    evidence["gpu_memory_held"] = None if holding is None else int(holding)
    held = f"{holding / GiB:.1f} GiB of GPU memory" if holding else "GPU memory"

    if samples and all(s.get("kernels") == 0 for s in samples):
        return Diagnosis(
            "held-elsewhere",
            f"No kernel of this server is running while {held} is held (GPU {busy}): other processes keep a paid "
            "accelerator. Shut them down if they are yours (nvidia-smi lists them).",
            evidence,
        )
    states = [s["executing"] for s in samples if s.get("executing") is not None]
    evidence["cell_running_share"] = _round(None if not states else sum(states) / len(states), 2)
    if states and states.count(False) >= MAJORITY * len(states):
        idle = max(_known(samples, "idle_seconds"), default=None)
        evidence["idle_seconds"] = None if idle is None else round(idle)
        since = f"for {idle / 60:.0f} minutes" if idle is not None and idle >= 60 else "lately"
        return Diagnosis(
            "idle-kernel",
            f"No cell has run {since} while {held} is held (GPU {busy}): an idle kernel is keeping a paid "
            "accelerator. Save what you need (`%guard snapshot`) and shut the runtime down, or free the GPU "
            "(del the tensors, then torch.cuda.empty_cache()).",
            evidence,
        )

    running = not states or states.count(True) >= MAJORITY * len(states)
    cpu = _median(_known(samples, "cpu"))
    workers_cpu = _median(_known(samples, "workers_cpu"))
    # what the threads wanted (running or waiting for a core), where the kernel keeps schedstat:
    # on a machine shared with others a CPU-bound thread may get half a core and want all of it
    want = _median(_known(samples, "cpu_demand"))
    workers_want = _median(_known(samples, "workers_demand"))
    workers = max((int(s.get("workers") or 0) for s in samples), default=0)
    cpus = min((int(s["cpus"]) for s in samples if s.get("cpus")), default=None)
    evidence.update(
        kernel_cpu_percent=_round(cpu),
        kernel_cpu_demand_percent=_round(want),
        workers=workers,
        workers_cpu_percent=_round(workers_cpu),
        workers_cpu_demand_percent=_round(workers_want),
        cpus=cpus,
    )
    main = want if want is not None else cpu
    helpers = workers_want if workers_want is not None else workers_cpu
    cpu_text = "the kernel " + (f"at {cpu:.0f}% of a core" if cpu is not None else "(CPU unknown)")
    if want is not None and cpu is not None and want - cpu >= 10:
        cpu_text += f", wanting one {want:.0f}% of the time"
    # where the machine's kernel keeps no scheduler statistics, what the threads wanted cannot be known
    evidence["kernel_cpu_demand_known"] = want is not None
    if workers:
        cpu_text += f", {workers} worker process{'es' if workers > 1 else ''} at {workers_cpu or 0:.0f}% together"
        if workers_want is not None and workers_cpu is not None and workers_want - workers_cpu >= 10:
            cpu_text += f" (wanting {workers_want:.0f}%)"
    rx = gpu["pcie_rx_bytes_per_second"]
    if running and rx is not None and rx >= HEAVY_PCIE_BYTES:
        return Diagnosis(
            "host-to-device",
            f"A cell is running while {rx / 1e9:.1f} GB/s are copied from the host to the GPU over PCIe and the GPU is "
            f"{busy}: host-to-device copies dominate each step. Keep tensors on the GPU between steps, move the "
            "dataset to the GPU once if it fits, use pinned memory and non_blocking copies.",
            evidence,
        )
    main_bound = main is not None and main >= SATURATED_PERCENT
    # workers share the machine's cores: as many busy as there are cores is saturation too
    busy_cores = min(workers, cpus) if cpus else workers
    workers_bound = workers > 0 and helpers is not None and helpers >= SATURATED_PERCENT * busy_cores
    whole_bound = cpus is not None and cpu is not None and cpu + (workers_cpu or 0) >= SATURATED_PERCENT * cpus
    if running and (main_bound or workers_bound or whole_bound):
        return Diagnosis(
            "input-pipeline",
            f"A cell is running with the CPU saturated ({cpu_text}) while the GPU waits ({busy}): the input "
            "pipeline cannot feed it. Use more DataLoader workers (num_workers), prefetching and pinned memory, "
            "or preprocess the data once beforehand (or on the GPU).",
            evidence,
        )
    used, total = gpu["gpu_memory_used"], gpu["gpu_memory_total"]
    if running and used is not None and total and used <= SMALL_MEMORY_SHARE * total:
        return Diagnosis(
            "small-batch",
            f"A cell is running, the CPU is not saturated ({cpu_text}), and the GPU uses {used / GiB:.1f} of its "
            f"{total / GiB:.1f} GiB ({100 * used / total:.0f}%) at {busy}: the batches are too small for this GPU. "
            "Raise the batch size while memory allows (with a matching learning rate), or use a smaller GPU.",
            evidence,
        )
    return Diagnosis(
        "unknown",
        f"The measurements match no usual cause (GPU {busy}, {cpu_text}"
        + (f", {rx / 1e9:.2f} GB/s into the GPU" if rx is not None else "")
        + "): look for waits in the loop itself (synchronising .item() or print calls, logging, checkpoints).",
        evidence,
    )
