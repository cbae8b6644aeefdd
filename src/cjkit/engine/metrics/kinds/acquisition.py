"""Acquisition stages: new units per period and per channel, and CAC from a spend file.

* ``new_units``: units of the population whose first-ever event of the stage falls in the
  range (for the model's first stage, that is the unit's acquisition).
* The channel of a new unit is the stage's ``channel`` property on that first event.
* ``cac`` = spend in the range / new units (blended: organic units count in the denominator).
  Per channel: the channel's spend / its new units; per period: the period's spend / its new
  units. A channel with new units but no spend rows has no CAC (null), not a CAC of 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import TIME
from cjkit.engine import periods as per
from cjkit.engine.metrics.base import (
    ALL,
    POP,
    Context,
    KindResult,
    StagePlan,
    as_int,
    grouped,
    optional_column,
)
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs
from cjkit.engine.money import frame_money_sum, money_sum
from cjkit.engine.stats import ratio

if TYPE_CHECKING:
    from cjkit.engine.metrics.summary import View

SPEND_DATE, SPEND_CHANNEL, SPEND_AMOUNT = "date", "channel", "amount"


@dataclass(frozen=True)
class Spend:
    """Marketing spend: one row per (date, channel) with an amount; dates are local dates."""

    frame: pl.DataFrame  # columns date (Date), channel (String), amount (Float64)
    file: str

    def between(self, first: date | None, last: date | None) -> pl.DataFrame:
        """Return the rows whose date lies in [first, last] (open ends match everything)."""
        frame = self.frame
        if first is not None:
            frame = frame.filter(pl.col(SPEND_DATE) >= first)
        if last is not None:
            frame = frame.filter(pl.col(SPEND_DATE) <= last)
        return frame


def unit_exprs(plan: StagePlan, ctx: Context) -> list[pl.Expr]:
    """Return the per-unit aggregations: the first event of the stage and its channel."""
    flag = pl.col(plan.flag)
    exprs = [pl.when(flag).then(pl.col(TIME)).min().alias(plan.col("first"))]
    if plan.channel:
        # The smallest channel among the stage's events at its first time (nulls last).
        exprs.append(ctx.earliest_value(plan.channel, flag).alias(plan.col("channel")))
    return exprs


def unit_columns(plan: StagePlan, ctx: Context) -> list[pl.Expr]:
    """Return the columns derived after the per-unit aggregation: ``new`` and its period."""
    first = pl.col(plan.col("first"))
    channel = (
        [ctx.decode_value(plan.col("channel"), plan.channel).alias(plan.col("channel"))]
        if plan.channel
        else []
    )
    return [
        *channel,
        (pl.col(POP) & first.is_not_null() & ctx.in_range(first))
        .fill_null(value=False)
        .alias(plan.col("new")),
        per.period_index(first, ctx.period, ctx.tz, ctx.week_start).alias(plan.col("p")),
    ]


def _cac_row(spend: float | None, new: int) -> dict[str, Any]:
    return {"new_units": new, "spend": spend, "cac": ratio(spend, new)}


def summarize(
    units: pl.DataFrame,
    plan: StagePlan,
    key: str | None,
    *,
    spend: pl.DataFrame | None = None,
    by_property: str | None = None,
) -> dict[Any, KindResult]:
    """Return new units and CAC for the population (``key`` None) or per group of ``key``.

    ``units`` holds the population only. ``spend`` is already cut to the report's dates.
    A group's CAC is known only when the breakdown is by the stage's channel property.
    """
    new = pl.col(plan.col("new"))
    total_spend = frame_money_sum(spend[SPEND_AMOUNT]) if spend is not None else None
    per_channel: dict[str, float] = {}
    if spend is not None and key is not None and by_property and by_property == plan.channel:
        sums = spend.group_by(SPEND_CHANNEL).agg(money_sum(SPEND_AMOUNT).alias(SPEND_AMOUNT))
        per_channel = dict(
            zip(sums[SPEND_CHANNEL].to_list(), sums[SPEND_AMOUNT].to_list(), strict=True)
        )
    out: dict[Any, KindResult] = {}
    for value, row in grouped(units, key, [new.sum().alias("new")]):
        n = as_int(row["new"])
        if value is ALL:
            group_spend = total_spend
        else:
            group_spend = per_channel.get(str(value)) if value is not None else None
        out[value] = KindResult(
            metrics={"new_units": n, "cac": ratio(group_spend, n)},
            detail={"spend": group_spend} if spend is not None else {},
        )
    return out


def tables(
    units: pl.DataFrame,
    plan: StagePlan,
    ctx: Context,
    periods: tuple[int, int] | None,
    spend: pl.DataFrame | None,
) -> dict[str, list[dict[str, Any]]]:
    """Return the population's new units (and spend, CAC) by channel and by period.

    ``periods`` is the inclusive range of period indices to list (empty periods included).
    """
    new_units = units.filter(pl.col(plan.col("new")))
    out: dict[str, list[dict[str, Any]]] = {}
    if plan.channel:
        out["by_channel"] = _by_channel(new_units, plan, spend)
    if periods is not None:
        out["by_period"] = _by_period(new_units, plan, ctx, periods, spend)
    return out


def _by_channel(
    new_units: pl.DataFrame, plan: StagePlan, spend: pl.DataFrame | None
) -> list[dict[str, Any]]:
    counts = new_units.group_by(pl.col(plan.col("channel")).alias("channel")).agg(
        pl.len().cast(pl.Int64).alias("new_units")
    )
    if spend is not None:
        sums = spend.group_by(pl.col(SPEND_CHANNEL).alias("channel")).agg(
            money_sum(SPEND_AMOUNT).alias("spend")
        )
        counts = counts.join(sums, on="channel", how="full", coalesce=True, nulls_equal=True)
        counts = counts.with_columns(pl.col("new_units").fill_null(0))
    total = new_units.height
    rows = []
    for row in counts.sort(
        ["new_units", "channel"], descending=[True, False], nulls_last=True
    ).iter_rows(named=True):
        n = int(row["new_units"])
        entry: dict[str, Any] = {
            "channel": row["channel"],
            "new_units": n,
            "share": ratio(n, total),
        }
        if spend is not None:
            entry.update(spend=row["spend"], cac=ratio(row["spend"], n))
        rows.append(entry)
    return rows


def _by_period(
    new_units: pl.DataFrame,
    plan: StagePlan,
    ctx: Context,
    periods: tuple[int, int],
    spend: pl.DataFrame | None,
) -> list[dict[str, Any]]:
    lo, hi = periods
    spine = pl.DataFrame({"p": list(range(lo, hi + 1))}, schema={"p": pl.Int32})
    counts = new_units.group_by(pl.col(plan.col("p")).alias("p")).agg(
        pl.len().cast(pl.Int64).alias("new_units")
    )
    table = spine.join(counts, on="p", how="left").with_columns(pl.col("new_units").fill_null(0))
    if spend is not None:
        sums = spend.group_by(
            per.date_index(pl.col(SPEND_DATE), ctx.period, ctx.week_start).alias("p")
        ).agg(money_sum(SPEND_AMOUNT).alias("spend"))
        table = table.join(sums.with_columns(pl.col("p").cast(pl.Int32)), on="p", how="left")
    table = table.with_columns(
        per.index_start(pl.col("p"), ctx.period, ctx.week_start).alias("period")
    ).sort("p")
    rows = []
    for row in table.iter_rows(named=True):
        entry: dict[str, Any] = {
            "period": row["period"].isoformat(),
            "new_units": int(row["new_units"]),
        }
        if spend is not None:
            entry.update(_cac_row(row["spend"], int(row["new_units"])))
        rows.append(entry)
    return rows


class Acquisition(KindEngine):
    """The acquisition kind's hooks (module functions above do the work)."""

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage with its channel column (dropped, with a note, when missing)."""
        channel, notes = optional_column(
            "channel", base.stage.channel, columns, "new units are not split by channel"
        )
        return replace(base, channel=channel, notes=tuple(notes))

    def columns(self, plan: StagePlan) -> list[str]:
        """Return the channel column."""
        return [plan.channel] if plan.channel else []

    text_columns = columns

    def unit_exprs(self, plan: StagePlan, ctx: Context) -> list[pl.Expr]:
        """Return :func:`unit_exprs`."""
        return unit_exprs(plan, ctx)

    def unit_columns(self, plan: StagePlan, ctx: Context) -> list[pl.Expr]:
        """Return :func:`unit_columns`."""
        return unit_columns(plan, ctx)

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return new units and CAC per group (:func:`summarize`)."""
        key, prop = view.group(segment)
        return summarize(view.pop, plan, key, spend=view.spend, by_property=prop)

    def tables(self, view: View, plan: StagePlan) -> dict[str, Any]:
        """Return the new units by channel and by period (:func:`tables`)."""
        return tables(view.pop, plan, view.ctx, view.period_range(), view.spend)


ENGINE = Acquisition()
