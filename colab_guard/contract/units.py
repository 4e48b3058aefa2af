"""Sizes and durations: parsing what people write ("12G") and writing what people read ("9.1 GiB",
"2 h 5 min"), in one place.

Standard library only: the contract, the readers and both processes share it.
"""

from __future__ import annotations

import math
import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(value: str | int | float) -> int:
    """Parse a byte count such as ``12884901888``, ``"12G"``, ``"12GiB"`` or ``"512M"`` (powers of 1024).

    JupyterHub spawners set ``MEM_LIMIT`` in bytes; admins tend to write "12G".
    """
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a memory size cannot be negative: {value!r}")
        return int(value)
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"not a memory size: {value!r} (expected bytes or a number with K, M, G or T)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgtp".index(unit or " "))


NOT_AVAILABLE = "n/a"
UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


def unit_of(n: float) -> int:
    unit, value = 0, n
    while unit < len(UNITS) - 1:
        rounded = value if unit == 0 else round(value * 10) / 10
        if rounded < 1024:
            break
        value /= 1024
        unit += 1
    return unit


def in_unit(n: float, unit: int) -> str:
    value = n / 1024**unit
    return str(round(value)) if unit == 0 else f"{value:.1f}"


def is_count(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0


def human_bytes(n: float | None) -> str:
    """Like "512 B", "1.5 KiB", "9.1 GiB": sizes as users read them ("n/a" where unknown)."""
    if not is_count(n):
        return NOT_AVAILABLE
    assert n is not None
    unit = unit_of(n)
    return f"{in_unit(n, unit)} {UNITS[unit]}"


def human_duration(seconds: float | None) -> str:
    """Like "45 s", "14 min", "2 h 5 min", "3 d 4 h"."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        return NOT_AVAILABLE
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        m = minutes % 60
        return f"{hours} h {m} min" if m else f"{hours} h"
    days, h = divmod(hours, 24)
    return f"{days} d {h} h" if h else f"{days} d"
