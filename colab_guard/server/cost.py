"""What the session costs, how much of it was spent idle, and advice drawn from the samples."""

from __future__ import annotations

import re

LOW_UTILIZATION_CAUSES = [
    "the input pipeline cannot feed the GPU (use more DataLoader workers, prefetching, a local copy of the data)",
    "batches too small to fill the GPU (raise the batch size while memory allows)",
    "preprocessing on the CPU in the training loop (move it to the GPU or do it once beforehand)",
    "host-to-device copies every step (keep tensors on the GPU, use pinned memory and non_blocking copies)",
    "the notebook is idle while holding GPU memory (free it with del and torch.cuda.empty_cache(), or shut the kernel down)",
]


def match_rate(rates: dict, accelerators: list[dict]) -> tuple[str, dict] | None:
    """The configured rate whose pattern matches this runtime's accelerator (GPU or TPU) name."""
    names = [a.get("name") or "" for a in accelerators]
    for pattern, rate in rates.items():
        regex = re.compile(re.escape(pattern).replace(r"\ ", r"[\s-]*"), re.IGNORECASE)
        if any(regex.search(name) for name in names):
            return pattern, rate
    return None


class CostMeter:
    """Accrues runtime time, and the part where the GPUs held memory but stayed under the threshold."""

    def __init__(self, low_utilization_threshold: float = 10.0, baseline_memory: int = 512 << 20):
        self.threshold = low_utilization_threshold
        # a GPU "holds memory" past what the driver and an empty CUDA context take
        self.baseline_memory = baseline_memory
        self.seconds = 0.0
        self.low_seconds = 0.0
        self.low_streak = 0.0  # seconds of the current run of low utilisation

    def add(self, dt: float, accelerators: list[dict]) -> None:
        gpus = [a for a in accelerators if a.get("kind") == "gpu"]
        self.seconds += dt
        if gpus and self._low(gpus):
            self.low_seconds += dt
            self.low_streak += dt
        else:
            self.low_streak = 0.0

    def _low(self, gpus: list[dict]) -> bool:
        util: list[float] = [g["utilization_gpu"] for g in gpus if g.get("utilization_gpu") is not None]
        held = any((g.get("memory_used") or 0) > self.baseline_memory for g in gpus)
        return bool(util) and held and max(util) < self.threshold

    def payload(self, rates: dict, accelerators: list[dict]) -> dict | None:
        """The cost so far; None where no rate is configured for this accelerator (never invented)."""
        matched = match_rate(rates, accelerators)
        if matched is None:
            return None
        pattern, rate = matched
        per_hour = float(rate["rate"])
        return {
            "pattern": pattern,
            "rate": per_hour,
            "unit": rate.get("unit", "USD"),
            "hours": round(self.seconds / 3600, 6),
            "accrued": round(per_hour * self.seconds / 3600, 6),
            "accrued_low_utilization": round(per_hour * self.low_seconds / 3600, 6),
            "low_utilization_threshold": self.threshold,
        }


def advice(meter: CostMeter, low_minutes: float, trend, memory: dict) -> list[dict]:
    """Warnings: sustained low GPU utilisation, and memory growing steadily toward the limit."""
    out = []
    if meter.low_streak >= low_minutes * 60:
        out.append(
            {
                "kind": "low-utilization",
                "minutes": round(meter.low_streak / 60, 1),
                "threshold": meter.threshold,
                "message": (
                    f"The GPU has stayed under {meter.threshold:.0f}% utilisation for {meter.low_streak / 60:.0f} minutes "
                    "while holding memory: you are paying for an idle accelerator. Check: "
                    + "; ".join(LOW_UTILIZATION_CAUSES)
                    + "."
                ),
                "causes": LOW_UTILIZATION_CAUSES,
            }
        )
    if trend is not None and memory.get("limit") and memory.get("working_set") is not None:
        slope, r2 = trend
        headroom = memory["limit"] - memory["working_set"]
        if slope > 0 and r2 >= 0.8 and headroom > 0:
            seconds = headroom / slope
            if seconds < 2 * 3600:
                out.append(
                    {
                        "kind": "memory-growth",
                        "seconds_to_limit": round(seconds),
                        "bytes_per_second": round(slope),
                        "message": (
                            f"Memory is growing steadily ({slope / 2**20:.1f} MiB/s): at this rate it reaches the limit "
                            f"in {seconds / 60:.0f} minutes. Free what you no longer need (del, gc.collect()) or save your work."
                        ),
                    }
                )
    return out
