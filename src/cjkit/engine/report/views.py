"""Conversion by entry period and time-to-convert histograms, from the funnel's journey table.

Both read the per-unit table of :func:`cjkit.engine.funnel.journeys.journeys` (``level`` and
``t_1``…``t_n`` in µs since the epoch) that the metrics run has already collected, so the
report costs no second scan of the events. Excluded units are left out, as in the funnel.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from cjkit.canonical import Period, WeekStart
from cjkit.engine import periods as per

# Bin edges in seconds for time-to-convert histograms: human steps from a minute to a quarter.
MINUTE, HOUR, DAY = 60, 3600, 86400
EDGES: tuple[int, ...] = (
    0,
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    3 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
    60 * DAY,
    90 * DAY,
)


def _kept(journeys: pl.LazyFrame) -> pl.LazyFrame:
    schema = journeys.collect_schema()
    return journeys.filter(~pl.col("excluded")) if "excluded" in schema else journeys


def ttc_histograms(journeys: pl.LazyFrame, steps: int) -> pl.DataFrame:
    """Return one row per (step, bin): ``step`` (2..n), ``lo_s``, ``hi_s`` (null: open), ``units``.

    A unit counts in step k's histogram when it reached step k; its time is ``t_k − t_{k−1}``
    on the attempt the funnel chose (the same times as the funnel's median and p90).
    """
    if steps < 2:
        return pl.DataFrame(
            schema={"step": pl.Int64, "lo_s": pl.Int64, "hi_s": pl.Int64, "units": pl.Int64}
        )
    frame = _kept(journeys)
    exprs: list[pl.Expr] = []
    for k in range(2, steps + 1):
        seconds = (pl.col(f"t_{k}") - pl.col(f"t_{k - 1}")) / 1_000_000
        reached = pl.col("level") >= k
        for i, lo in enumerate(EDGES):
            inside = reached & (seconds >= lo)
            if i + 1 < len(EDGES):
                inside = inside & (seconds < EDGES[i + 1])
            exprs.append(inside.sum().cast(pl.Int64).alias(f"{k}:{i}"))
    row = frame.select(exprs).collect().row(0, named=True)
    records = []
    for k in range(2, steps + 1):
        for i, lo in enumerate(EDGES):
            hi = EDGES[i + 1] if i + 1 < len(EDGES) else None
            records.append({"step": k, "lo_s": lo, "hi_s": hi, "units": int(row[f"{k}:{i}"])})
    return pl.DataFrame(
        records, schema={"step": pl.Int64, "lo_s": pl.Int64, "hi_s": pl.Int64, "units": pl.Int64}
    )


def trends(
    journeys: pl.LazyFrame,
    steps: int,
    *,
    period: Period,
    tz: str,
    week_start: WeekStart,
    window_s: int,
    data_end: datetime | None,
) -> pl.DataFrame:
    """Return one row per entry period: ``period`` (its local start date), ``entered``,
    ``reached_1``…``reached_n`` (units of that entry period that reached step k) and
    ``complete``: False while the period's last entrant could still convert within the window
    after the data ends (such periods read low, and the report shades them)."""
    frame = _kept(journeys)
    start = pl.col("t_1").cast(pl.Datetime("us", "UTC"))
    index = per.period_index(start, period, tz, week_start)
    table = (
        frame.with_columns(index.alias("p"))
        .group_by("p")
        .agg(
            pl.len().cast(pl.Int64).alias("entered"),
            *[
                (pl.col("level") >= k).sum().cast(pl.Int64).alias(f"reached_{k}")
                for k in range(1, steps + 1)
            ],
        )
        .sort("p")
        .collect()
    )
    if table.is_empty():
        return table.with_columns(
            pl.lit(None, pl.Date).alias("period"), pl.lit(None, pl.Boolean).alias("complete")
        )
    ends = [
        per.start_of(int(p) + 1, period, tz, week_start).timestamp() for p in table["p"].to_list()
    ]
    limit = data_end.timestamp() if data_end is not None else float("inf")
    complete = [end + window_s <= limit for end in ends]
    return table.with_columns(
        per.index_start(pl.col("p"), period, week_start).alias("period"),
        pl.Series("complete", complete, dtype=pl.Boolean),
    ).drop("p")
