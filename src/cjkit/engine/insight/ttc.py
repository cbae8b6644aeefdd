"""Time to convert between two steps, in full: PostHog's histogram bins and percentiles.

Per unit that reached ``to_step`` (not excluded), the seconds from its ``from_step`` event to
its ``to_step`` event on the chosen path (the first full conversion). Bins follow PostHog's
time-to-convert query (``funnel_time_to_convert.py``; ``test_funnel_time_to_convert.py``
``test_auto_bin_count_single_step`` and ``test_custom_bin_count_single_step``):

* the bin count is ``ceil(cbrt(n))`` clamped to 1..60, or the given count clamped to 1..90;
* ``min = floor(min seconds)``, ``max = ceil(max seconds)``, the width is
  ``ceil((max − min) / bins)``, or 60 s when that is 0;
* bins start at ``min + i · width`` for i = 0..bins: one more than the count, so a maximum on
  the upper edge lands in the last one; a unit falls in bin ``floor((s − min) / width)``.

Percentiles use linear interpolation between order statistics (numpy's default).
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

PERCENTILES = (25, 50, 75, 90, 95, 99)
AUTO_MAX, CUSTOM_MAX = 60, 90


def bin_count(n: int, requested: int | None) -> int:
    """Return PostHog's bin count for ``n`` samples (or the requested count, clamped)."""
    if requested is not None:
        return max(1, min(CUSTOM_MAX, requested))
    return max(1, min(AUTO_MAX, math.ceil(round(n ** (1 / 3), 12)))) if n else 1


def histogram(
    units: pl.DataFrame, from_step: int, to_step: int, bins: int | None
) -> dict[str, Any]:
    """Return ``{from_step, to_step, units, bins: [{start_s, units}], mean_s, percentiles}``."""
    gap = (pl.col(f"t_{to_step}") - pl.col(f"t_{from_step}")) / 1_000_000
    reached = units.filter(~pl.col("excluded") & (pl.col("level") >= to_step))
    seconds = reached.select(gap.alias("s"))["s"]
    n = seconds.len()
    out: dict[str, Any] = {
        "from_step": from_step,
        "to_step": to_step,
        "units": n,
        "bins": [],
        "mean_s": None,
        "percentiles": {f"p{q}_s": None for q in PERCENTILES},
    }
    if n == 0:
        return out
    count = bin_count(n, bins)
    low = math.floor(float(seconds.min()))  # type: ignore[arg-type]
    high = math.ceil(float(seconds.max()))  # type: ignore[arg-type]
    width = math.ceil((high - low) / count) or 60
    index = ((seconds - low) / width).floor().cast(pl.Int64)
    per_bin = index.value_counts().to_dict(as_series=False)
    tally = dict(zip(per_bin[index.name], per_bin["count"], strict=True))
    out["bins"] = [
        {"start_s": low + i * width, "units": int(tally.get(i, 0))} for i in range(count + 1)
    ]
    out["mean_s"] = float(seconds.mean())  # type: ignore[arg-type]
    out["percentiles"] = {
        f"p{q}_s": float(seconds.quantile(q / 100, interpolation="linear"))  # type: ignore[arg-type]
        for q in PERCENTILES
    }
    return out
