"""Moments in payloads: ISO 8601 UTC strings ending in Z, written and read by this one codec."""

from __future__ import annotations

import datetime as dt


def iso(seconds: float | None) -> str | None:
    """An ISO 8601 UTC string ending in Z, or None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def epoch(value: dt.datetime | str | float | None) -> float | None:
    """Seconds since the epoch from a datetime, an ISO 8601 string (naive means UTC) or a number;
    None for anything else, a malformed string included (it may come from another process)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if not value:
            return None
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
