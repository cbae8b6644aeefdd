"""Segments side by side: fold small segments into ``(other)``, and test each against the rest.

* ``--top N`` keeps the N segments with the most units at step 1 (ties by value) and relabels
  every other unit's segment ``(other)``, one group_by and one join over the journey table, so a
  column with 100k distinct values costs no more than one with ten. :func:`fold_values` is that
  fold for any table (the events of retention and metrics too); tables and Markdown fold to
  :data:`cjkit.report.folding.TABLE_TOP` by default.
* ``vs_rest`` at step k ≥ 2 compares the segment's ``conversion_from_previous`` with the rest
  of the population's (all units not in the segment), by :func:`tests.two_proportions_many`.
  ``impact_units = c_{k-1} · (rate − rest_rate)``: the units the segment gained (positive) or
  lost (negative) at step k against what the rest's rate would have given it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import polars as pl

from cjkit.engine.insight.tests import two_proportions_many
from cjkit.report.core import FunnelGroup, FunnelStep

OTHER = "(other)"


@dataclass(frozen=True)
class Folded:
    """What a fold did: the segments kept (``top``), the segments and units put in ``(other)``,
    and how many distinct values there were before (``values``) of which columns (``by``)."""

    top: int
    segments: int
    units: int
    values: int = 0
    by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "top": self.top,
            "folded_segments": self.segments,
            "folded_units": self.units,
            "values": self.values,
            "by": list(self.by),
        }


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def fold_values(
    frame: Frame,
    by: Sequence[str],
    top: int,
    *,
    size: pl.Expr | None = None,
    where: pl.Expr | None = None,
    into: Sequence[str] | None = None,
) -> tuple[Frame, Folded]:
    """Return ``frame`` with every value of ``by`` outside the ``top`` largest as ``(other)``.

    The one fold of every command's breakdowns (funnel, retention, metrics, diagnose): values
    are ranked by ``size`` (default: rows, ``pl.len()``; the caller passes the distinct units
    on an events table) over the rows ``where`` holds, ties by value. The kept values become
    text (``(other)`` fits any type), written to ``into`` (default: ``by`` itself). Folding
    relabels rows before anything is counted, so ``(other)`` is a segment like any other:
    its counts are those of its units and its rates come from its own counts, never averaged.
    One group_by over the values and one join with the kept ones: a column with 500k values
    costs about as much as one with ten. A lazy ``frame`` is scanned once for the sizes.
    """
    columns: list[str] = list(by)
    targets: list[str] = list(into) if into is not None else columns
    keys: list[str] = [f"_fold{j}" for j in range(len(columns))]
    lazy = frame.lazy().with_columns(
        pl.col(c).cast(pl.String).alias(k) for c, k in zip(columns, keys, strict=True)
    )
    counted = lazy.filter(where) if where is not None else lazy
    sizes = (
        counted.group_by(keys)
        .agg((size if size is not None else pl.len()).alias("_n"))
        .sort(["_n", *keys], descending=[True, *[False] * len(keys)], nulls_last=True)
        .collect()
    )
    keep = sizes.head(top).select(*keys, pl.lit(value=True).alias("_keep"))
    rest = sizes.slice(top)
    out = (
        lazy.join(keep.lazy(), on=keys, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(
            pl.when(pl.col("_keep")).then(pl.col(k)).otherwise(pl.lit(OTHER)).alias(t)
            for k, t in zip(keys, targets, strict=True)
        )
        .drop("_keep", *keys)
    )
    info = Folded(
        top=top,
        segments=rest.height,
        units=int(rest["_n"].sum() or 0),
        values=sizes.height,
        by=tuple(columns),
    )
    if isinstance(frame, pl.DataFrame):
        return out.collect(), info
    return out, info


def fold_top(units: pl.DataFrame, by: list[str], top: int) -> tuple[pl.DataFrame, Folded]:
    """Return the funnel's journey table with every segment outside the ``top`` largest as
    ``(other)``: size is the number of (non-excluded) units in the segment at step 1."""
    return fold_values(units, by, top, where=~pl.col("excluded"))


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
