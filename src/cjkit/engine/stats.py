"""Small statistics shared by every metric: safe ratios, Wilson intervals, quantiles."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """Return numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Return the 95% Wilson score interval (low, high) for a proportion, or None when trials is 0."""
    if trials <= 0:
        return None
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # At 0 or n successes the bound is exactly 0 or 1; rounding would leave 5e-17.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return (low, high)


def ci_dict(successes: int, trials: int) -> dict[str, float] | None:
    """Return the Wilson interval as ``{"low": …, "high": …}`` for JSON, or None."""
    interval = wilson(successes, trials)
    return None if interval is None else {"low": interval[0], "high": interval[1]}

