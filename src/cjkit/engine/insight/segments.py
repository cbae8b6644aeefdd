"""Segments side by side: fold small segments into ``(other)``, and test each against the rest.

* ``--top N`` keeps the N segments with the most units at step 1 (ties by value) and relabels
  every other unit's segment ``(other)``, one group_by and one join over the journey table, so a
  column with 100k distinct values costs no more than one with ten.
* ``vs_rest`` at step k ≥ 2 compares the segment's ``conversion_from_previous`` with the rest
  of the population's (all units not in the segment), by :func:`tests.two_proportions_many`.
  ``impact_units = c_{k-1} · (rate − rest_rate)``: the units the segment gained (positive) or
  lost (negative) at step k against what the rest's rate would have given it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from cjkit.engine.insight.tests import two_proportions_many
from cjkit.report.core import FunnelGroup, FunnelStep

OTHER = "(other)"


@dataclass(frozen=True)
class Folded:
    """What ``--top`` folded: the segments kept, and the segments and units put in ``(other)``."""

    top: int
    segments: int
    units: int

    def to_dict(self) -> dict[str, int]:
        """Return the JSON form."""
        return {"top": self.top, "folded_segments": self.segments, "folded_units": self.units}


def fold_top(units: pl.DataFrame, by: list[str], top: int) -> tuple[pl.DataFrame, Folded]:
    """Return the journey table with every segment outside the ``top`` largest as ``(other)``.

    Size is the number of (non-excluded) units in the segment at step 1; the ``by`` columns
    become text so that ``(other)`` fits any type.
    """
    text = units.with_columns(pl.col(c).cast(pl.String) for c in by)
    sizes = (
        text.filter(~pl.col("excluded"))
        .group_by(by)
        .agg(pl.len().alias("_n"))
        .sort(["_n", *by], descending=[True, *[False] * len(by)], nulls_last=True)
    )
    keep = sizes.head(top).select(*by, pl.lit(value=True).alias("_keep"))
    rest = sizes.slice(top)
    joined = text.join(keep, on=by, how="left", nulls_equal=True)
    folded = joined.with_columns(
        pl.when(pl.col("_keep")).then(pl.col(c)).otherwise(pl.lit(OTHER)).alias(c) for c in by
    ).drop("_keep")
    info = Folded(top=top, segments=rest.height, units=int(rest["_n"].sum() or 0))
    return folded, info


def vs_rest(
    total: list[FunnelStep], groups: list[FunnelGroup]
) -> list[list[dict[str, Any] | None]]:
    """Return, per group and step, the ``vs_rest`` dict (None at step 1 or with no rest).

    ``significant`` is left False: the caller sets it after the report-wide BH correction.
    """
    n = len(total)
    if not groups or n < 2:
        return [[None] * n for _ in groups]
    counts = np.array([[s.count for s in g.steps] for g in groups], dtype=np.int64)
    all_counts = np.array([s.count for s in total], dtype=np.int64)
    prev, cur = counts[:, :-1], counts[:, 1:]
    rest_prev, rest_cur = all_counts[:-1] - prev, all_counts[1:] - cur
    p, names = two_proportions_many(cur.ravel(), prev.ravel(), rest_cur.ravel(), rest_prev.ravel())
    p, names = p.reshape(prev.shape), names.reshape(prev.shape)
    out: list[list[dict[str, Any] | None]] = []
    for g in range(len(groups)):
        row: list[dict[str, Any] | None] = [None]
        for k in range(n - 1):
            a, b, ra, rb = (
                int(cur[g, k]),
                int(prev[g, k]),
                int(rest_cur[g, k]),
                int(rest_prev[g, k]),
            )
            if b == 0 or rb == 0:
                row.append(None)
                continue
            rate, rest_rate = a / b, ra / rb
            row.append(
                {
                    "rate": rate,
                    "rest_rate": rest_rate,
                    "diff": rate - rest_rate,
                    "p_value": None if np.isnan(p[g, k]) else float(p[g, k]),
                    "test": str(names[g, k]),
                    "significant": False,
                    "impact_units": b * (rate - rest_rate),
                }
            )
        out.append(row)
    return out
