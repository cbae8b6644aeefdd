"""Phase 2 summaries of the per-unit CLV table: RFM segments, breakdowns, the holdout buckets.

Every sum is over a column sorted by unit first, so float totals do not depend on row order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from cjkit.engine.clv.rfm import SEGMENTS
from cjkit.engine.insight.segments import fold_values
from cjkit.engine.money import frame_money_sum, money_sum

FREQUENCY_BUCKETS = 7  # 0..6, then "7+"


def _sum(name: str) -> pl.Expr:
    # Order-independent (an exact six-decimal sum), so the totals are byte-stable.
    return money_sum(name)


def _group_stats() -> list[pl.Expr]:
    return [
        pl.len().alias("units"),
        _sum("revenue").alias("revenue"),
        _sum("expected_purchases").alias("expected_purchases"),
        pl.col("prob_alive").mean().alias("mean_prob_alive"),
        _sum("clv").alias("clv"),
        pl.col("clv").mean().alias("mean_clv"),
    ]


def segments(units: pl.DataFrame) -> list[dict[str, Any]]:
    """Return one row per RFM segment (every segment, in grid order), with shares."""
    total_units = units.height
    total_revenue = frame_money_sum(units["revenue"])
    grouped = units.group_by("rfm_segment").agg(_group_stats())
    rows = {r["rfm_segment"]: r for r in grouped.iter_rows(named=True)}
    out = []
    for name in SEGMENTS:
        row = rows.get(name)
        n = int(row["units"]) if row else 0
        revenue = float(row["revenue"]) if row else 0.0
        out.append(
            {
                "segment": name,
                "units": n,
                "share": n / total_units if total_units else None,
                "revenue": revenue,
                "revenue_share": revenue / total_revenue if total_revenue else None,
                "expected_purchases": row["expected_purchases"] if row else 0.0,
                "mean_prob_alive": row["mean_prob_alive"] if row else None,
                "clv": row["clv"] if row else None,
                "mean_clv": row["mean_clv"] if row else None,
            }
        )
    return out


def breakdown(units: pl.DataFrame, column: str, fold: int | None = None) -> dict[str, Any]:
    """Return the per-value summary of ``column`` (the value on the unit's first purchase).

    With ``fold``, the values outside the ``fold`` largest (by units) are one ``(other)``
    group, relabelled before the sums so its figures are those of its units; the block then
    says how many values there were (``folded``: top, values, folded_segments)."""
    folded: dict[str, int] | None = None
    if fold is not None:
        units, info = fold_values(units, [column], fold)
        if info.segments:
            folded = {"top": fold, "values": info.values, "folded_segments": info.segments}
    grouped = units.group_by(column).agg(_group_stats()).sort(column, nulls_last=True)
    groups = [{"value": row.pop(column), **row} for row in grouped.iter_rows(named=True)]
    block: dict[str, Any] = {"by": column, "groups": groups}
    if folded is not None:
        block["folded"] = folded
    return block


def top(units: pl.DataFrame, n: int) -> list[dict[str, Any]]:
    """Return the ``n`` units with the highest CLV (else expected purchases), ties by unit."""
    key = "clv" if units["clv"].null_count() < units.height else "expected_purchases"
    columns = [
        "unit",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "expected_purchases",
        "prob_alive",
        "expected_avg_value",
        "clv",
        "rfm_segment",
    ]
    ranked = units.sort([key, "unit"], descending=[True, False], nulls_last=True).head(n)
    return list(ranked.select(columns).iter_rows(named=True))


def holdout_buckets(check: pl.DataFrame) -> tuple[list[dict[str, Any]], float]:
    """Return predicted against actual per calibration-frequency bucket, and the mean absolute
    error per unit. ``check`` has frequency, predicted and actual per unit."""
    bucket = (
        pl.when(pl.col("frequency") >= FREQUENCY_BUCKETS)
        .then(pl.lit(f"{FREQUENCY_BUCKETS}+"))
        .otherwise(pl.col("frequency").cast(pl.String))
    )
    order = pl.col("frequency").clip(0, FREQUENCY_BUCKETS)
    grouped = (
        check.with_columns(bucket.alias("bucket"), order.alias("_order"))
        .group_by("bucket", "_order")
        .agg(
            pl.len().alias("units"),
            money_sum("predicted").alias("predicted"),
            pl.col("actual").sum().alias("actual"),
            pl.col("predicted").mean().alias("mean_predicted"),
            pl.col("actual").mean().alias("mean_actual"),
        )
        .sort("_order")
        .drop("_order")
    )
    mae = check.select((pl.col("predicted") - pl.col("actual")).abs().mean()).item() or 0.0
    return list(grouped.iter_rows(named=True)), mae


def totals(units: pl.DataFrame) -> dict[str, float | int | None]:
    """Return the totals of the per-unit predictions (None where a column is all null)."""

    def total(name: str) -> float | None:
        column = units[name]
        return None if column.null_count() == units.height else frame_money_sum(column)

    repeaters = units.filter(pl.col("frequency") > 0).height
    alive = units["prob_alive"].drop_nulls().to_numpy()
    return {
        "units": units.height,
        "repeat_buyers": repeaters,
        "expected_purchases": total("expected_purchases"),
        # The mean of the sorted values: the same bits whatever the order of the units.
        "mean_prob_alive": float(np.mean(np.sort(alive))) if alive.size else None,
        "clv": total("clv"),
        "revenue": total("revenue"),
    }


def fit_warnings(summary: pl.DataFrame, spend_excluded: int, negative: int) -> list[str]:
    """Return the warnings about a fit: most units never repeat, repeat buyers left out of
    Gamma-Gamma, purchase events with a zero or negative amount."""
    out = []
    one_time = summary.filter(pl.col("frequency") == 0).height
    if summary.height and one_time / summary.height > 0.8:
        out.append(
            f"{one_time:,} of {summary.height:,} units ({one_time / summary.height:.0%}) never "
            "bought again: BG/NBD rests on the few repeat buyers, so treat its predictions "
            "with care"
        )
    if spend_excluded:
        out.append(
            f"{spend_excluded:,} repeat buyer(s) with a zero or negative mean order value were "
            "left out of the Gamma-Gamma fit (it needs positive values)"
        )
    if negative:
        out.append(f"{negative:,} purchase event(s) have a zero or negative amount")
    return out
