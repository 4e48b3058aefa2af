"""Accelerator hours over the last days, from usage-log lines, against an optional weekly budget.

A usage-log line (JSON) has ``t`` (epoch seconds) and ``interval`` (the seconds it stands for,
60 by default) and names the accelerators attached then: ``accelerators`` (GPU and TPU names), or,
in lines written before that field existed, ``gpus`` (``[{"name": ...}]``). Lines of one machine
(``host``) for the same interval count once, so a server and its kernels, or two kernels of one
runtime, that all log the same minute do not double it.

Colab's free tier allows roughly 30 GPU hours a week, but its limits are not published: the budget
is a setting, never a promise.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ..contract.files import parse_json

WEEK_DAYS = 7
DEFAULT_INTERVAL = 60.0


def _accelerators(record: dict[str, Any]) -> list[str]:
    names = record.get("accelerators")
    if isinstance(names, list):
        return [str(n) for n in names if n]
    gpus = record.get("gpus")
    if isinstance(gpus, list):
        return [str(g.get("name") or "GPU") for g in gpus if isinstance(g, dict)]
    return []


def accelerator_hours(lines: Iterable[str], now: float | None = None, days: float = WEEK_DAYS) -> dict[str, Any]:
    """Hours with an accelerator attached over the last ``days``, in total and by accelerator name."""
    now = time.time() if now is None else now
    since = now - days * 86400
    seen: set[tuple[str, int]] = set()
    seconds = 0.0
    by_name: dict[str, float] = {}
    first: float | None = None
    for line in lines:
        try:
            record = parse_json(line)
            t = float(record["t"])
            interval = float(record.get("interval") or DEFAULT_INTERVAL)
        except (ValueError, KeyError, TypeError):
            continue
        if not since <= t <= now + interval or interval <= 0:
            continue
        names = _accelerators(record)
        if not names:
            continue
        key = (str(record.get("host") or ""), int(t // interval))
        if key in seen:
            continue
        seen.add(key)
        seconds += interval
        first = t if first is None else min(first, t)
        label = ", ".join(sorted(set(names)))
        by_name[label] = by_name.get(label, 0.0) + interval
    return {
        "days": days,
        "hours": round(seconds / 3600, 3),
        "by_accelerator": {name: round(s / 3600, 3) for name, s in sorted(by_name.items())},
        "since": since,
        "first_record": first,
    }


def with_budget(hours: dict[str, Any], budget: float | None) -> dict[str, Any]:
    """Add the weekly budget, what is left of it, and a warning past 80 % of it."""
    out = dict(hours, budget=budget or None, left=None, warning=None)
    if budget:
        left = budget - hours["hours"]
        out["left"] = round(left, 3)
        if left <= 0:
            out["warning"] = f"{hours['hours']:.1f} accelerator hours in the last 7 days: past your budget of {budget:g} h."
        elif hours["hours"] >= 0.8 * budget:
            out["warning"] = (
                f"{hours['hours']:.1f} of your {budget:g} accelerator hours used in the last 7 days ({left:.1f} h left)."
            )
    return out
