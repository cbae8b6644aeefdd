"""Retention stages: the cohort table and churn of the model's first stage → this stage.

The cohorts come from the retention engine (:mod:`cjkit.engine.cohorts.retention`): start
events are the model's first stage, returns this stage's events, in the stage's period. The
metrics are the average curve's ``period_k`` rates, ``churn_rate`` (units lost after a
complete period over those active at its start) and ``events_per_active_unit``; per breakdown
group, the same from the cohorts and churn of that group's units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import TIME, USER
from cjkit.engine import periods as per
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.matchers import predicate
from cjkit.engine.metrics.base import ALL, KindResult, StagePlan
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs, QueryInput
from cjkit.engine.stats import ci_dict, ratio
from cjkit.report.cohorts import RetentionCurve, RetentionReport

if TYPE_CHECKING:
    from cjkit.engine.metrics.plan import MetricsPlan
    from cjkit.engine.metrics.summary import View

DEFAULT_PERIODS = 8


def retention_spec(
    plan: MetricsPlan, stage: StagePlan, by: str | None = None
) -> retention_engine.RetentionSpec:
    """Return the cohort spec of a retention stage: start = first stage, return = this stage."""
    ctx = plan.ctx
    return retention_engine.RetentionSpec(
        start=plan.stages[0].matchers,
        returns=stage.matchers,
        period=stage.period,
        periods=stage.periods,
        week_start=ctx.week_start,
        tz=ctx.tz,
        since=ctx.since,
        until=ctx.until,
        by=(by,) if by else (),
    )


def _adjacent(step: int) -> pl.Expr:
    """Return, on rows sorted by (unit, period), whether the row ``step`` back is the same
    unit's period ``p − step`` (step 1: active in the period before; −1: in the one after)."""
    same = pl.col(USER).shift(step) == pl.col(USER)
    return (same & (pl.col("p").shift(step) == pl.col("p") - step)).fill_null(value=False)


def _group_churn(
    events: pl.LazyFrame, spec: retention_engine.RetentionSpec, seg: str
) -> pl.LazyFrame:
    """Return per (segment value, period ``p``): active and retained units, return events and
    units lost in ``p`` (active in p − 1, not in p). :func:`_cut_churn` sums them over the
    complete periods in phase 2, when the bounds of every pass over the units are known."""
    frame = events
    if spec.until is not None:
        frame = frame.filter(pl.col(TIME) <= spec.until)
    if spec.since is not None:
        lower = per.start_of(spec.index(spec.since) - 1, spec.period, spec.tz, spec.week_start)
        frame = frame.filter(pl.col(TIME) >= lower)
    p = per.period_index(pl.col(TIME), spec.period, spec.tz, spec.week_start).alias("p")
    assert spec.returns is not None
    active = (
        frame.filter(predicate(spec.returns))
        .group_by(USER, p)
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col(seg).first())
        .sort(USER, "p")
        .with_columns(_adjacent(1).alias("prev"), _adjacent(-1).alias("next"))
    )
    current = active.group_by(seg, "p").agg(
        pl.len().cast(pl.Int64).alias("active"),
        pl.col("prev").sum().cast(pl.Int64).alias("retained"),
        pl.col("n").sum().alias("events"),
    )
    lost = (
        active.filter(~pl.col("next"))
        .group_by(seg, (pl.col("p") + 1).alias("p"))
        .agg(pl.len().cast(pl.Int64).alias("lost"))
    )
    counts = ["active", "retained", "events", "lost"]
    return current.join(
        lost, on=[seg, "p"], how="full", coalesce=True, nulls_equal=True
    ).with_columns(pl.col(counts).fill_null(0))


def _cut_churn(churn: pl.DataFrame, bounds: pl.DataFrame, seg: str) -> pl.DataFrame:
    """Return per segment value: lost, at-start, return events and active units of
    :func:`_group_churn`'s rows, summed over the complete periods of the retention engine's churn
    range (the same cut as its summary; ``bounds`` are the stage's, over all the units)."""
    return (
        churn.join(bounds.select("plo", "hi", "end"), how="cross")
        .filter(pl.col("p").is_between(pl.col("plo"), pl.col("hi")) & (pl.col("p") < pl.col("end")))
        .group_by(seg)
        .agg(
            pl.col("lost").sum(),
            (pl.col("lost") + pl.col("retained")).sum().alias("at_start"),
            pl.col("events").sum(),
            pl.col("active").sum(),
        )
    )


def _retention_result(report: RetentionReport, stage: StagePlan) -> KindResult:
    """Return the retention stage's metrics from a cohort report whose ``summary`` holds the
    churn over complete periods (and, for breakdown groups, the counts behind it)."""
    average = report.average
    metrics: dict[str, Any] = {}
    ci: dict[str, dict[str, float] | None] = {}
    for k in range(1, stage.periods + 1):
        metrics[f"period_{k}"] = average.rates[k] if k < len(average.rates) else None
        ci[f"period_{k}"] = average.ci[k] if k < len(average.ci) else None
    summary = report.summary
    metrics["churn_rate"] = summary.get("churn_rate")
    metrics["events_per_active_unit"] = summary.get("events_per_active_unit")
    ci["churn_rate"] = summary.get("churn_ci")
    done = [p for p in report.periods if p.complete]
    detail = {
        "period": stage.period,
        "lost": summary.get("lost", sum(p.lost for p in done)),
        "active_at_start": summary.get("at_start", sum(p.lost + p.retained for p in done)),
    }
    return KindResult(metrics=metrics, ci=ci, detail=detail)


def _retention_settings(plan: MetricsPlan, stage: StagePlan) -> dict[str, Any]:
    ctx = plan.ctx
    return {
        "start_event": "|".join(plan.stages[0].stage.event_names()),
        "return_event": "|".join(stage.stage.event_names()),
        "period": stage.period,
        "periods": stage.periods,
        "cohort": "recurring",
        "cumulative": False,
        "week_start": ctx.week_start,
        "timezone": ctx.tz,
        "since": ctx.since.isoformat() if ctx.since else None,
        "until": ctx.until.isoformat() if ctx.until else None,
    }


def _parts(frames: Mapping[str, pl.DataFrame], prefix: str) -> dict[str, pl.DataFrame]:
    return {name: frames[f"{prefix}:{name}"] for name in ("bounds", "cells", "churn")}


def _groups(view: View, s: StagePlan, i: int) -> dict[Any, KindResult]:
    plan = view.plan
    seg = plan.seg(i)
    report = retention_engine.retention_report(
        _parts(view.frames, f"ret:{s.id}:by{i}"),
        retention_spec(plan, s, seg),
        _retention_settings(plan, s),
    )
    cut = _cut_churn(view.frames[f"churn:{s.id}:by{i}"], view.frames[f"ret:{s.id}:bounds"], seg)
    churn = {row[seg]: row for row in cut.iter_rows(named=True)}
    out: dict[Any, KindResult] = {}
    for group in report.groups:
        result = _retention_result(
            replace(report, average=group.average, summary=_churn_summary(churn.get(group.value))),
            s,
        )
        out[group.value] = result
    for value, row in churn.items():
        if value not in out:
            out[value] = _retention_result(
                replace(report, average=_empty_curve(s.periods), summary=_churn_summary(row)), s
            )
    return out


def _churn_summary(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {
            "churn_rate": None,
            "churn_ci": None,
            "events_per_active_unit": None,
            "lost": 0,
            "at_start": 0,
        }
    lost, at_start = int(row["lost"]), int(row["at_start"])
    return {
        "lost": lost,
        "at_start": at_start,
        "churn_rate": ratio(lost, at_start),
        "churn_ci": ci_dict(lost, at_start),
        "events_per_active_unit": ratio(int(row["events"]), int(row["active"])),
    }


def _empty_curve(n: int) -> RetentionCurve:
    return RetentionCurve(
        rates=[None] * (n + 1), counts=[0] * (n + 1), sizes=[0] * (n + 1), ci=[None] * (n + 1)
    )


class Retention(KindEngine):
    """The retention kind's hooks. Breakdown groups can have members only in the cohort
    tables, so its groups add to a breakdown's values (``adds_groups``)."""

    adds_groups = True

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage with its period and depth."""
        stage = base.stage
        periods = max(stage.periods or DEFAULT_PERIODS, args.retention_periods or 0)
        # A target deeper than the engine's limit reads as a metric the stage doesn't report.
        periods = min(periods, retention_engine.MAX_PERIODS)
        period = args.period or stage.period or args.default_period
        return replace(base, period=period, periods=periods)

    def queries(self, q: QueryInput, plan: StagePlan) -> dict[str, pl.LazyFrame]:
        """Return the cohort tables, and per breakdown property the group cohorts and churn."""
        mplan = q.plan
        spec = retention_spec(mplan, plan)
        parts = retention_engine.retention_query(q.frame, spec)
        out = {f"ret:{plan.id}:{name}": lf for name, lf in parts.items()}
        for i in range(len(mplan.segments)):
            seg = mplan.seg(i)
            with_seg = q.frame.join(q.units.select(USER, seg), on=USER, how="left")
            by_parts = retention_engine.retention_query(with_seg, retention_spec(mplan, plan, seg))
            out.update({f"ret:{plan.id}:by{i}:{name}": lf for name, lf in by_parts.items()})
            out[f"churn:{plan.id}:by{i}"] = _group_churn(with_seg, spec, seg)
        return out

    def combine(
        self, plan: StagePlan, mplan: MetricsPlan, parts: Sequence[Mapping[str, pl.DataFrame]]
    ) -> dict[str, pl.DataFrame]:
        """Return the cohort tables of passes over disjoint sets of units (counts add up, ranges
        widen: the retention engine's ``combine``) and the group churn rows added up."""
        out: dict[str, pl.DataFrame] = {}
        n = len(mplan.segments)
        for prefix in [f"ret:{plan.id}", *(f"ret:{plan.id}:by{i}" for i in range(n))]:
            merged = retention_engine.combine([_parts(part, prefix) for part in parts])
            out.update({f"{prefix}:{name}": frame for name, frame in merged.items()})
        for i in range(n):
            name, keys = f"churn:{plan.id}:by{i}", [mplan.seg(i), "p"]
            rows = pl.concat([part[name] for part in parts])
            out[name] = rows.group_by(keys).agg(pl.exclude(keys).sum())
        return out

    def retention(self, view: View, plan: StagePlan) -> RetentionReport:
        """Return the stage's cohort report over the population."""

        def make() -> RetentionReport:
            return retention_engine.retention_report(
                _parts(view.frames, f"ret:{plan.id}"),
                retention_spec(view.plan, plan),
                _retention_settings(view.plan, plan),
            )

        report: RetentionReport = view.memo(plan.id, make)
        return report

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return the retention metrics for the population or per group."""
        if segment is None:
            return {ALL: _retention_result(self.retention(view, plan), plan)}
        return _groups(view, plan, segment)


ENGINE = Retention()
