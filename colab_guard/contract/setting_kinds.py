"""The kinds of value a setting holds, each with its one text codec: what people type, what the
environment carries, what is remembered, what is shown.

Standard library only: both processes and the docs build read settings through these.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

from .files import parse_json
from .units import human_bytes, human_duration, parse_size

NONE_WORDS = ("", "none")


def parse_rates(text: str) -> dict[str, dict[str, Any]]:
    """Rates as JSON ({"T4": {"rate": 1.96, "unit": "compute units"}}) or ``T4:1.96:compute units,A100:1.18``."""
    text = text.strip()
    if not text or text.lower() == "none":
        return {}
    if text.startswith("{"):
        rates = parse_json(text)
    else:
        rates = {}
        for item in text.split(","):
            parts = [p.strip() for p in item.split(":")]
            if len(parts) not in (2, 3) or not parts[0]:
                raise ValueError(f"rates: {item.strip()!r} is not PATTERN:RATE or PATTERN:RATE:UNIT (e.g. T4:1.96:compute units)")
            try:
                rate = float(parts[1])
            except ValueError:
                raise ValueError(f"rates: {parts[1]!r} in {item.strip()!r} is not a number") from None
            rates[parts[0]] = {"rate": rate, "unit": parts[2] if len(parts) == 3 and parts[2] else "USD"}
    check_rates(rates)
    return dict(rates)


def check_rates(rates: object) -> None:
    """Raise ValueError unless ``rates`` maps patterns to {"rate": non-negative number, "unit": text}."""
    if not isinstance(rates, dict):
        raise ValueError(f"rates must map accelerator name patterns to rates, not {rates!r}")
    for pattern, rate in rates.items():
        if not isinstance(rate, dict) or not isinstance(rate.get("rate"), (int, float)) or not 0 <= rate["rate"] < math.inf:
            raise ValueError(f'rates[{pattern!r}] must be {{"rate": <hourly number>, "unit": "..."}}, not {rate!r}')


_DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_seconds(text: str) -> float | None:
    """``43200``, ``12h``, ``90m``, ``1.5h``; 0 or "none" means no such limit (None)."""
    value = text.strip().lower()
    if value in ("", "none", "off", "0"):
        return None
    number = value.rstrip("smhdin")
    unit = value[len(number) :] or "s"
    if unit not in _DURATION_UNITS:
        raise ValueError(f"{text!r} is not a duration (seconds, or a number with s, m, h or d: 90m, 12h)")
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (seconds, or a number with s, m, h or d: 90m, 12h)") from None
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {text!r}")
    return seconds or None


@dataclass(frozen=True)
class Kind:
    """A kind of value: its Python type and how it reads and writes as text."""

    name: str
    type: type

    def parse(self, name: str, text: str) -> Any:
        """The value a person typed, strictly: a clear ValueError for anything malformed."""
        text = str(text).strip()
        try:
            value = self._parse(text)
        except ValueError as exc:
            raise ValueError(f"{name} {exc}") if str(exc).startswith("is ") else exc from None
        if isinstance(value, float) and not math.isfinite(value):  # "nan" and "inf" parse as floats
            raise ValueError(f"{name} must be a finite number, not {text!r}")
        return value

    def _parse(self, text: str) -> Any:
        try:
            return self.type(text)
        except ValueError:
            raise ValueError(f"is a number, not {text!r}") from None

    def from_env(self, text: str, default: Any) -> Any:
        """An environment variable's value; a malformed one keeps the default, as a kernel must start."""
        try:
            return self.parse("", text)
        except ValueError:
            return default

    def to_text(self, value: Any) -> str:
        """Text that ``parse`` reads back to ``value`` (for the environment and the remembered file)."""
        return "none" if value is None else str(value)

    def shown(self, value: Any) -> str:
        """The value as a person reads it."""
        if value is None:
            return "none"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def is_unset(self, value: Any) -> bool:
        """Whether the value says "nothing set", so that the environment leaves it out."""
        return value is None

    def from_config(self, value: Any) -> Any:
        """A value given in a config file or on the command line, in this kind's form."""
        return value


class _Bool(Kind):
    def _parse(self, text: str) -> Any:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"is on or off, not {text!r}")

    def to_text(self, value: Any) -> str:
        return "1" if value else "0"

    def shown(self, value: Any) -> str:
        return "on" if value else "off"


class _Text(Kind):
    def _parse(self, text: str) -> Any:
        return text or None


class _Size(Kind):
    def _parse(self, text: str) -> Any:
        return None if text.lower() in (*NONE_WORDS, "0") else parse_size(text)

    def shown(self, value: Any) -> str:
        return "none" if value is None else human_bytes(value)

    def from_config(self, value: Any) -> Any:
        return None if value is None else parse_size(value)


class _Path(Kind):
    def _parse(self, text: str) -> Any:
        return None if text.lower() in NONE_WORDS else os.path.abspath(os.path.expanduser(text))


class _Seconds(Kind):
    def _parse(self, text: str) -> Any:
        return parse_seconds(text)

    def shown(self, value: Any) -> str:
        return "none" if value is None else human_duration(value)

    def from_config(self, value: Any) -> Any:
        return _none_or_not_negative(value)


class _Hours(Kind):
    def _parse(self, text: str) -> Any:
        if text.lower() in (*NONE_WORDS, "0"):
            return None
        try:
            hours = float(text.rstrip("hH"))
        except ValueError:
            raise ValueError(f"is a number of hours, not {text!r}") from None
        if hours < 0:
            raise ValueError(f"cannot be negative: {text!r}")
        return hours or None

    def shown(self, value: Any) -> str:
        return "none" if value is None else f"{value:g} h"

    def from_config(self, value: Any) -> Any:
        return _none_or_not_negative(value)


def _none_or_not_negative(value: Any) -> float | None:
    """0 or None: no such limit; a negative amount is a mistake."""
    if not value:
        return None
    if value < 0:
        raise ValueError(f"cannot be negative, not {value:g}")
    return float(value)


class _Rates(Kind):
    def _parse(self, text: str) -> Any:
        return parse_rates(text)

    def to_text(self, value: Any) -> str:
        return json.dumps(value)

    def shown(self, value: Any) -> str:
        return ", ".join(f"{p}: {r['rate']:g} {r.get('unit', 'USD')}/h" for p, r in value.items()) or "none"

    def is_unset(self, value: Any) -> bool:
        return not value


BOOL = _Bool("bool", bool)
INT = Kind("int", int)
NUMBER = Kind("number", float)
SIZE = _Size("size", int)  # bytes, typed with a unit ("12G"); none for no limit
PATH = _Path("path", str)  # a folder or file, made absolute; none for the default
TEXT = _Text("text", str)
SECONDS = _Seconds("seconds", float)  # a duration ("90m", "12h", 43200); 0 or none for no limit
HOURS = _Hours("hours", float)  # a number of hours; 0 or none for no budget
RATES = _Rates("rates", dict)  # hourly prices by accelerator name pattern
