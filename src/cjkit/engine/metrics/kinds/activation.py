"""Activation stages: the share of acquired units that reach first value soon after acquisition.

``rate`` = acquired units with an event of the stage at or after their acquisition and at most
``within`` (default 7d, inclusive) later / acquired units. Acquisition is the unit's first-ever
event of the model's first stage; an activation event before it does not count (PostHog's
activation recipe: "activated if, within N days of their first event, they …"). The time to
activate is measured from the acquisition to the first such event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import TIME, USER
from cjkit.durations import parse_duration
from cjkit.engine.metrics.base import (
    ACQ,
    ACQUIRED,
    KindResult,
    StagePlan,
    as_float,
    as_int,
    seconds,
    summarize_rows,
)
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs, QueryInput
from cjkit.engine.stats import ci_dict, ratio

if TYPE_CHECKING:
    from cjkit.engine.metrics.summary import View

DEFAULT_WITHIN_S = 7 * 86400


def unit_query(events: pl.LazyFrame, plan: StagePlan, acquired: pl.LazyFrame) -> pl.LazyFrame:
    """Return per unit its first stage event within ``within`` of acquisition (``acquired``
    has each unit's acquisition time). Only the stage's events are joined: comparing every event
    with its unit's acquisition inside one group_by cost several times more."""
    within = plan.within_s or DEFAULT_WITHIN_S
    t, acq = pl.col(TIME), pl.col(ACQ)
    return (
        events.filter(pl.col(plan.flag))
        .select(USER, TIME)
        .join(acquired, on=USER, how="inner")
        .filter((t >= acq) & (t <= acq + pl.duration(seconds=within)))
        .group_by(USER)
        .agg(t.min().alias(plan.col("at")))
    )


def summarize(units: pl.DataFrame, plan: StagePlan, key: str | None) -> dict[Any, KindResult]:
    """Return the activation rate and time to activate, for the population or per group."""
    acquired = pl.col(ACQUIRED)
    activated = acquired & pl.col(plan.col("at")).is_not_null()
    delay = seconds(pl.col(plan.col("at")), pl.col(ACQ)).filter(activated)
    exprs = [
        acquired.sum().alias("acquired"),
        activated.sum().alias("activated"),
        delay.median().alias("median"),
        delay.quantile(0.9, interpolation="linear").alias("p90"),
    ]

    def result(row: dict[str, Any]) -> KindResult:
        n, k = as_int(row["acquired"]), as_int(row["activated"])
        return KindResult(
            metrics={
                "rate": ratio(k, n),
                "median_time_to_activate_s": as_float(row["median"]),
                "p90_time_to_activate_s": as_float(row["p90"]),
            },
            ci={"rate": ci_dict(k, n)},
            detail={"acquired": n, "activated": k, "within_s": plan.within_s or DEFAULT_WITHIN_S},
        )

    return summarize_rows(units, key, exprs, result)


class Activation(KindEngine):
    """The activation kind's hooks."""

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage with its window in seconds (default 7 days)."""
        within = base.stage.within
        return replace(base, within_s=parse_duration(within) if within else DEFAULT_WITHIN_S)

    def unit_query(self, q: QueryInput, plan: StagePlan) -> pl.LazyFrame | None:
        """Return :func:`unit_query`."""
        return unit_query(q.events, plan, q.acquired)

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return the activation rate and times per group (:func:`summarize`)."""
        return summarize(view.pop, plan, view.group(segment)[0])


ENGINE = Activation()
