"""When will memory reach its limit? A least-squares line through the working set of the last
minutes, extended to the limit: the same rules as the panel's ``projection.ts``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Projection:
    """The working set reaches the limit in ``seconds`` at ``bytes_per_second`` (fit quality ``r2``)."""

    seconds: float
    bytes_per_second: float
    r2: float


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """(slope, r²) of the least-squares line through the points; None with fewer than two or one x."""
    n = min(len(xs), len(ys))
    if n < 2:
        return None
    mean_x = sum(xs[:n]) / n
    mean_y = sum(ys[:n]) / n
    sxx = sum((x - mean_x) ** 2 for x in xs[:n])
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs[:n], ys[:n]))
    syy = sum((y - mean_y) ** 2 for y in ys[:n])
    if sxx == 0:
        return None
    slope = sxy / sxx
    return slope, (sxy * sxy) / (sxx * syy) if syy else 0.0


def project_time_to_limit(
    t: Sequence[float],
    working_set: Sequence[float],
    limit: float | None,
    window: float = 300.0,
    min_points: int = 10,
    min_span: float = 60.0,
    min_r2: float = 0.6,
    min_rate: float = 1024.0,
    horizon: float = 24 * 3600.0,
) -> Projection | None:
    """None unless memory climbs steadily: enough points over enough time, a good fit, within the horizon."""
    if not limit or limit <= 0 or not t:
        return None
    last = max(t)
    points = [(x, y) for x, y in zip(t, working_set) if x >= last - window]
    if len(points) < min_points or last - min(x for x, _ in points) < min_span:
        return None
    fit = linear_fit([p[0] for p in points], [p[1] for p in points])
    if fit is None or fit[0] < min_rate or fit[1] < min_r2:
        return None
    latest = max(points)[1]
    seconds = max(0.0, (limit - latest) / fit[0])
    return None if seconds > horizon else Projection(seconds, fit[0], fit[1])
