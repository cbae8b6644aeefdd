"""RFM scores and segments.

R, F and M are scored 1–5 by quintile of rank (average ranks, so tied units always share a
score and the result does not depend on row order): R on days since the last purchase (recent is
5), F on purchase days, M on the mean day total. FM is the rounded-down mean of F and M. The
segment comes from the (R, FM) grid below, after Putler's eleven RFM segments, written out as a
grid so that every cell has exactly one segment.
"""

from __future__ import annotations

import polars as pl

SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)

# GRID[R - 1][FM - 1]
GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "hibernating", "at_risk", "cant_lose", "cant_lose"),
    ("hibernating", "about_to_sleep", "at_risk", "at_risk", "cant_lose"),
    ("about_to_sleep", "need_attention", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalists", "loyal", "champions", "champions"),
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
)


def quintile(value: pl.Expr, *, descending: bool = False) -> pl.Expr:
    """Return the 1–5 quintile score of ``value`` by average rank (5 = largest, or smallest)."""
    rank = value.rank("average", descending=descending)
    return ((rank * 5 / pl.len()).ceil().clip(1, 5)).cast(pl.Int8)


def scores(summary: pl.LazyFrame) -> pl.LazyFrame:
    """Return ``summary`` with r_score, f_score, m_score and rfm_segment.

    Needs ``days_since_last`` (recency in days to the observation end), ``purchase_days`` and
    ``mean_day_value``.
    """
    fm = ((pl.col("f_score") + pl.col("m_score")) // 2).clip(1, 5)
    cell = (pl.col("r_score").cast(pl.Int32) - 1) * 5 + (fm.cast(pl.Int32) - 1)
    flat = [name for row in GRID for name in row]
    return summary.with_columns(
        quintile(pl.col("days_since_last"), descending=True).alias("r_score"),
        quintile(pl.col("purchase_days")).alias("f_score"),
        quintile(pl.col("mean_day_value")).alias("m_score"),
    ).with_columns(
        cell.replace_strict(list(range(25)), flat, return_dtype=pl.String).alias("rfm_segment")
    )
