"""Countdown arithmetic, as pure functions of timestamps and policies (no server state)."""

from __future__ import annotations

import datetime as dt
import math


def epoch(value: dt.datetime | str | None) -> float | None:
    """Seconds since the epoch from a datetime or an ISO 8601 string (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def iso(seconds: float | None) -> str | None:
    """An ISO 8601 UTC string ending in Z, or None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat().replace("+00:00", "Z")


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
