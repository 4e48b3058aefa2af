"""A bounded ring buffer of recent samples, served compactly for sparklines."""

from __future__ import annotations

import json
from collections import deque

CACHED_WINDOWS = 8  # the distinct ?seconds= answers kept between two samples


class History:
    """Host memory, GPU utilisation and GPU memory, one entry per sample, ``seconds`` long."""

    def __init__(self, seconds: float = 3600, interval: float = 1.0):
        self.interval = interval
        self._rows: deque = deque(maxlen=max(1, int(seconds / interval)))
        self._served: dict[float, tuple[float | None, bytes]] = {}  # seconds -> (newest sample, JSON)

    def add(self, t: float, working_set: int | None, limit: int | None, gpus: list[dict]) -> None:
        self._rows.append(
            (t, working_set, limit, tuple(g.get("utilization_gpu") for g in gpus), tuple(g.get("memory_used") for g in gpus))
        )

    def __len__(self) -> int:
        return len(self._rows)

    def since(self, seconds: float, now: float | None = None) -> dict:
        """The samples of the last ``seconds``: parallel arrays, one list per GPU."""
        rows = list(self._rows)
        if rows:
            start = (now if now is not None else rows[-1][0]) - seconds
            rows = [r for r in rows if r[0] >= start]
        n_gpus = max((len(r[3]) for r in rows), default=0)
        return {
            "interval": self.interval,
            "t": [round(r[0], 3) for r in rows],
            "memory_working_set": [r[1] for r in rows],
            "memory_limit": rows[-1][2] if rows else None,
            "gpu_utilization": [[r[3][i] if i < len(r[3]) else None for r in rows] for i in range(n_gpus)],
            "gpu_memory_used": [[r[4][i] if i < len(r[4]) else None for r in rows] for i in range(n_gpus)],
        }

    def version(self) -> float | None:
        """The newest sample's time: the answers change only when it does."""
        return self._rows[-1][0] if self._rows else None

    def serialized(self, seconds: float) -> bytes:
        """``since(seconds)`` as JSON, built once per sample however many clients ask."""
        newest = self.version()
        cached = self._served.get(seconds)
        if cached is not None and cached[0] == newest:
            return cached[1]
        body = json.dumps(self.since(seconds)).encode()
        if seconds not in self._served and len(self._served) >= CACHED_WINDOWS:
            self._served.clear()
        self._served[seconds] = (newest, body)
        return body

    def working_set_trend(self, seconds: float) -> tuple[float, float] | None:
        """(slope in bytes/s, r²) of the working set over the last ``seconds``; None with too few points."""
        rows = [r for r in self._rows if r[1] is not None]
        if not rows:
            return None
        start = rows[-1][0] - seconds
        points = [(r[0], r[1]) for r in rows if r[0] >= start]
        if len(points) < 10:
            return None
        n = len(points)
        mean_t = sum(p[0] for p in points) / n
        mean_y = sum(p[1] for p in points) / n
        stt = sum((p[0] - mean_t) ** 2 for p in points)
        sty = sum((p[0] - mean_t) * (p[1] - mean_y) for p in points)
        syy = sum((p[1] - mean_y) ** 2 for p in points)
        if stt == 0:
            return None
        slope = sty / stt
        r2 = (sty * sty) / (stt * syy) if syy else 0.0
        return slope, r2
