"""Durations (``30s``, ``15m``, ``2h``, ``7d``, ``2w``) and period names."""

from __future__ import annotations

import re

from cjkit.canonical import PERIODS as PERIODS
from cjkit.canonical import Period as Period

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_SECONDS = 36500 * 86400
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")

# Spans of the CLV model (a holdout, a horizon): days to years, with months of 365.25 / 12 days.
_SPAN = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(d|days?|w|weeks?|mo|months?|y|years?)\s*$", re.IGNORECASE
)
_SPAN_DAYS = {"d": 1.0, "w": 7.0, "m": 365.25 / 12, "y": 365.25}
# The CLV model's units of time, in days (a month is 365.25 / 12 days).
TIME_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


def parse_span(text: str) -> tuple[float, float]:
    """Return (days, months) of a span such as ``90d``, ``26w``, ``12mo``, ``12 months`` or
    ``1y``; raise ValueError with the accepted form."""
    match = _SPAN.match(text)
    if not match:
        raise ValueError(f"expected a span such as 90d, 26w, 12mo or 1y, got {text!r}")
    number = float(match.group(1))
    unit = match.group(2).lower()
    key = "m" if unit.startswith("mo") else unit[0]
    days = number * _SPAN_DAYS[key]
    months = number if key == "m" else number * 12 if key == "y" else days / (365.25 / 12)
    return days, months


def parse_duration(text: str) -> int:
    """Return the duration in whole seconds; raise ValueError with the accepted form."""
    match = _DURATION.match(text)
    if not match:
        msg = f"expected a duration such as 30s, 15m, 2h, 7d or 2w, got {text!r}"
        raise ValueError(msg)
    seconds = round(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if seconds > MAX_SECONDS:
        # Bounded so every later conversion (timedelta, Polars µs durations) holds it.
        msg = f"a duration must be at most 36500d (100 years), got {text!r}"
        raise ValueError(msg)
    if seconds <= 0:
        # Durations are whole seconds: 0.4s rounds to 0, which is no window at all.
        msg = f"a duration must be at least 1s, got {text!r}"
        raise ValueError(msg)
    return seconds


def format_duration(seconds: float | None) -> str:
    """Return a short human form of a number of seconds (``3d 4h``, ``12m``, ``45s``).

    The smaller part is rounded, and a part that rounds up to a whole larger unit carries into
    it (``1d 23h 40m`` is ``2d``, never ``1d 24h``; ``59.7s`` is ``1m``).
    """
    if seconds is None:
        return "–"
    s = abs(seconds)
    sign = "-" if seconds < 0 else ""
    if round(s) < 60:
        return f"{sign}{s:.0f}s"
    if round(s / 60) < 60:
        return f"{sign}{s / 60:.0f}m"
    if s < 86400:
        h, rem = divmod(s, 3600)
        minutes = round(rem / 60) if rem >= 60 else 0
        if minutes == 60:
            h, minutes = h + 1, 0
        if h < 24:
            return f"{sign}{h:.0f}h {minutes}m" if minutes else f"{sign}{h:.0f}h"
        s = h * 3600
    d, rem = divmod(s, 86400)
    hours = round(rem / 3600) if rem >= 3600 else 0
    if hours == 24:
        d, hours = d + 1, 0
    return f"{sign}{d:.0f}d {hours}h" if hours else f"{sign}{d:.0f}d"
