"""Countdown arithmetic, as pure functions of timestamps and policies (no server state)."""

from __future__ import annotations

import math


def next_check_after(deadline: float, next_check: float, interval: float) -> float:
    """The first periodic check strictly after ``deadline`` (checks at next_check + k * interval)."""
    if next_check > deadline:
        return next_check
    k = math.floor((deadline - next_check) / interval) + 1
    return next_check + k * interval


def idle_cull_at(last_activity: float, timeout: float, next_check: float | None, interval: float) -> float:
    """When jupyter_server's culler, checking every ``interval``, will cull a kernel idle since ``last_activity``."""
    deadline = last_activity + timeout
    return next_check_after(deadline, next_check, interval) if next_check else deadline + interval


def seconds_left(deadline: float | None, now: float) -> float | None:
    """Seconds until ``deadline``, never negative, to a tenth; None without a deadline."""
    return None if deadline is None else round(max(0.0, deadline - now), 1)
