"""What the session costs, how much of it was spent with the GPU idle, and advice drawn from the samples."""

from __future__ import annotations

import re
from typing import Any

from .diagnosis import Diagnosis, diagnose

# A GPU "holds memory" past what the driver and an empty CUDA context take.
BASELINE_MEMORY = 512 << 20


def match_rate(rates: dict, accelerators: list[dict]) -> tuple[str, dict] | None:
    """The configured rate whose pattern matches this runtime's accelerator (GPU or TPU) name."""
    names = [a.get("name") or "" for a in accelerators]
    for pattern, rate in rates.items():
        regex = re.compile(re.escape(pattern).replace(r"\ ", r"[\s-]*"), re.IGNORECASE)
        if any(regex.search(name) for name in names):
            return pattern, rate
    return None


class CostMeter:
    """Accrues runtime time, and the part where the GPUs held memory but stayed under the threshold.

    Each reading may also carry what the kernel was doing (see ``diagnosis.Sample``): the samples of
    the current run of low utilisation are kept, so that the advice can say which cause they point to.
    """

    def __init__(self, low_utilization_threshold: float = 10.0, baseline_memory: int = BASELINE_MEMORY):
        self.threshold = low_utilization_threshold
        self.baseline_memory = baseline_memory
        self.seconds = 0.0
        self.low_seconds = 0.0
        self.low_streak = 0.0  # seconds of the current run of low utilisation
        self.streak_samples: list[dict[str, Any]] = []  # what was measured during it (bounded)

    def add(self, dt: float, accelerators: list[dict], activity: dict[str, Any] | None = None) -> None:
        """Account ``dt`` seconds with these accelerators; ``activity``: the kernel's cell state and CPU."""
        gpus = [a for a in accelerators if a.get("kind") == "gpu"]
        self.seconds += dt
        if gpus and self._low(gpus):
            self.low_seconds += dt
            self.low_streak += dt
            self.streak_samples.append({"gpus": gpus, **(activity or {})})
            del self.streak_samples[:-MAX_STREAK_SAMPLES]
        else:
            self.low_streak = 0.0
            self.streak_samples = []

    def _low(self, gpus: list[dict]) -> bool:
        util: list[float] = [g["utilization_gpu"] for g in gpus if g.get("utilization_gpu") is not None]
        held = any((g.get("memory_used") or 0) > self.baseline_memory for g in gpus)
        return bool(util) and held and max(util) < self.threshold

    def payload(self, rates: dict, accelerators: list[dict], seconds: float | None = None) -> dict | None:
        """The cost so far (of ``seconds``, else of the time accounted); None where no rate is
        configured for this accelerator (never invented)."""
        matched = match_rate(rates, accelerators)
        if matched is None:
            return None
        pattern, rate = matched
        per_hour = float(rate["rate"])
        seconds = self.seconds if seconds is None else seconds
        return {
            "pattern": pattern,
            "rate": per_hour,
            "unit": rate.get("unit", "USD"),
            "hours": round(seconds / 3600, 6),
            "accrued": round(per_hour * seconds / 3600, 6),
            "accrued_low_utilization": round(per_hour * self.low_seconds / 3600, 6),
            "low_utilization_threshold": self.threshold,
        }

    def diagnosis(self) -> Diagnosis | None:
        """Which cause the current run of low utilisation points to, with its evidence."""
        if not self.streak_samples:
            return None
        return diagnose(self.streak_samples, self.threshold, self.low_streak)


# Samples of one run of low utilisation kept for the diagnosis: the last ones say what is happening now.
MAX_STREAK_SAMPLES = 120


def low_utilization_warning(meter: CostMeter, low_minutes: float) -> dict | None:
    """After ``low_minutes`` of low GPU utilisation with memory held: the warning, with the cause the
    measurements point to and the figures it rests on."""
    if meter.low_streak < low_minutes * 60:
        return None
    found = meter.diagnosis()
    return {
        "kind": "low-utilization",
        "minutes": round(meter.low_streak / 60, 1),
        "threshold": meter.threshold,
        "message": (
            f"The GPU has stayed under {meter.threshold:.0f}% utilisation for {meter.low_streak / 60:.0f} minutes "
            "while holding memory: you are paying for an idle accelerator. " + (found.message if found else "")
        ).strip(),
        "cause": None if found is None else found.cause,
        "evidence": None if found is None else found.evidence,
    }


def advice(meter: CostMeter, low_minutes: float, trend, memory: dict) -> list[dict]:
    """Warnings: sustained low GPU utilisation (with its likely cause), and memory growing steadily toward the limit."""
    out: list[dict] = []
    low = low_utilization_warning(meter, low_minutes)
    if low is not None:
        out.append(low)
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
