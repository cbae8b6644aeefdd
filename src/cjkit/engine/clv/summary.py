"""Phase 1 of CLV: one row per unit with lifetimes' RFM summary, from the purchase events.

Conventions (lifetimes' ``summary_data_from_transaction_data`` with ``freq="D"``; the published
CDNOW figures use them, with weeks as days / 7):

* purchases merge per calendar day (in the run's time zone): a day with purchases is one purchase
  period, its amount the day's total;
* ``frequency`` = purchase days − 1 (repeat purchases);
* ``recency`` = first → last purchase day, ``T`` = first purchase day → observation end, both in
  days divided by the time unit's length in days;
* ``monetary_value`` = mean of the repeat days' totals (the first day excluded; 0 without repeats),
  or of every day's total with ``include_first``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from cjkit.canonical import UNIT
from cjkit.durations import TIME_UNIT_DAYS
from cjkit.engine.money import money_sum

UNIT_DAYS = TIME_UNIT_DAYS

TS = "ts"  # an amount row's time (internal; the input column is canonical.TS)
AMOUNT = "amount"


@dataclass(frozen=True)
class SummarySpec:
    """What phase 1 needs: the time zone, the observation end and the unit of time."""

    tz: str
    observation_end: date
    time_unit: str = "week"
    include_first: bool = False


def daily(purchases: pl.LazyFrame, spec: SummarySpec, by: tuple[str, ...] = ()) -> pl.LazyFrame:
    """Return one row per (unit, purchase day) up to the observation end, with the day's total.

    ``purchases`` has columns ``unit``, ``ts`` (UTC datetime) and ``amount`` (float, may be null);
    ``by`` names more columns to keep apart (a revenue stage's currency: one row per unit,
    currency and day).
    """
    day = pl.col(TS).dt.convert_time_zone(spec.tz).dt.date().alias("day")
    return (
        purchases.with_columns(day)
        .filter(pl.col("day") <= spec.observation_end)
        .group_by(UNIT, *by, "day")
        .agg(money_sum(pl.col(AMOUNT).fill_null(0.0)).alias("total"))
    )


def summarise(days: pl.LazyFrame, spec: SummarySpec) -> pl.LazyFrame:
    """Return the per-unit RFM summary: frequency, recency, T, monetary_value, orders, revenue.

    ``days`` comes from :func:`daily`. Sums run over day totals sorted by day, so the result does
    not depend on the order of the input rows.
    """
    scale = UNIT_DAYS[spec.time_unit]
    end = pl.lit(spec.observation_end)
    first = pl.col("day").min()
    last = pl.col("day").max()
    total = money_sum("total")
    repeat_sum = money_sum(pl.col("total").sort_by("day").slice(1))
    n = pl.len()
    monetary = (
        total / n
        if spec.include_first
        else pl.when(n > 1).then(repeat_sum / (n - 1)).otherwise(0.0)
    )
    return days.group_by(UNIT).agg(
        (n - 1).cast(pl.Int64).alias("frequency"),
        ((last - first).dt.total_days() / scale).alias("recency"),
        ((end - first).dt.total_days() / scale).alias("T"),
        monetary.cast(pl.Float64).alias("monetary_value"),
        total.alias("revenue"),
        first.alias("first_purchase"),
        last.alias("last_purchase"),
    )


def holdout_counts(days: pl.LazyFrame, start: date, end: date) -> pl.LazyFrame:
    """Return per unit the purchase days in (start, end]: the actual repeat purchases there."""
    window = (pl.col("day") > start) & (pl.col("day") <= end)
    return days.filter(window).group_by(UNIT).agg(pl.len().cast(pl.Int64).alias("actual"))
