"""Phase 2 of ``cjkit metrics``: the collected, small tables turned into stage results.

Definitions shared by every kind (docs/metrics.md, "Stage metrics", has the formulas):

* **Population** P: units with at least one event of the model's first stage in the range. It
  is the funnel's first-stage count, and the denominator of per-unit metrics (ARPU, invites
  per unit). Kind metrics count only P's events in the range.
* **Acquisition** of a unit: its first-ever event of the first stage (over all history).
  *Acquired* units are those whose acquisition falls in the range (all of P without
  ``--since``); activation, conversion to paid, LTV and referred sign-ups are over them.
* **Segment** of a unit, for breakdowns: the property's value on its first first-stage event in
  the range (first touch; units outside P fall back to their first first-stage event, then to
  their first event). One value per unit, so breakdown groups partition the units and counts
  sum to the totals.

Phase 1 (:func:`queries`) builds lazy queries over the model's events, to be collected together
with one ``pl.collect_all``; phase 2 (:func:`assemble`) turns the collected, small tables into
stage results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from cjkit.engine import periods as per
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.metrics.base import ACQ, ACQUIRED, ALL, POP, UNIT, Context, KindResult, StagePlan
from cjkit.engine.metrics.kinds import acquisition, activation, referral, revenue, satisfaction
from cjkit.engine.metrics.plan import MetricsPlan, retention_spec
from cjkit.engine.stats import ci_dict, ratio
from cjkit.report.cohorts import RetentionCurve, RetentionReport
from cjkit.report.core import FunnelStep
from cjkit.report.metrics import Breakdown, BreakdownGroup, StageNumbers, StageResult
from cjkit.timerange import zone

ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Span:
    """The data's first and last timestamps (UTC), for open range ends and complete periods."""

    start: datetime | None
    end: datetime | None


def _local_date(moment: datetime | None, tz: str) -> date | None:
    return None if moment is None else moment.astimezone(zone(tz)).date()


def spend_dates(ctx: Context, span: Span) -> tuple[date | None, date | None]:
    """Return the local dates whose spend counts: the range, closed by the data's span."""
    return _local_date(ctx.since or span.start, ctx.tz), _local_date(ctx.until or span.end, ctx.tz)


def _period_range(ctx: Context, span: Span) -> tuple[int, int] | None:
    lo, hi = ctx.since or span.start, ctx.until or span.end
    if lo is None or hi is None:
        return None
    return (
        per.index_of(lo, ctx.period, ctx.tz, ctx.week_start),
        per.index_of(hi, ctx.period, ctx.tz, ctx.week_start),
    )


def _numbers(step: FunnelStep | None, stage_id: str, kind: KindResult | None) -> StageNumbers:
    ttc = step.time_to_convert if step else None
    metrics: dict[str, Any] = {"median_time_to_convert_s": ttc.median_s if ttc else None}
    ci: dict[str, dict[str, float] | None] = {}
    if step is not None:
        ci.update(step.ci)
    if kind is not None:
        metrics.update(kind.metrics)
        ci.update(kind.ci)
    return StageNumbers(
        id=stage_id,
        count=step.count if step else 0,
        conversion_from_previous=step.conversion_from_previous if step else None,
        conversion_from_start=step.conversion_from_start if step else None,
        drop_off=step.drop_off if step else 0,
        time_to_convert=ttc,
        metrics=metrics,
        ci=ci,
        detail=dict(kind.detail) if kind else {},
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


class _Assembler:
    """Phase 2: the collected tables → stage results for the population and each group."""

    def __init__(
        self,
        frames: Mapping[str, pl.DataFrame],
        plan: MetricsPlan,
        span: Span,
        spend: acquisition.Spend | None,
    ) -> None:
        self.frames = frames
        self.plan = plan
        self.span = span
        self.units = frames["units"]
        self.pop = self.units.filter(pl.col(POP))
        self.spend = spend.between(*spend_dates(plan.ctx, span)) if spend is not None else None
        self.money = {
            s.id: frames[f"money:{s.id}"].join(self.pop.select(UNIT), on=UNIT, how="semi")
            for s in plan.of_kind("revenue")
        }
        self.currencies = {
            s.id: revenue.currencies(self.money[s.id], s) for s in plan.of_kind("revenue")
        }
        self.retention = {
            s.id: retention_engine.retention_report(
                _parts(frames, f"ret:{s.id}"),
                retention_spec(plan, s),
                _retention_settings(plan, s),
            )
            for s in plan.of_kind("retention")
        }

    def kinds(self, key: str | None, by_property: str | None) -> dict[str, dict[Any, KindResult]]:
        """Return, per stage id, the kind results per group value (ALL when ``key`` is None)."""
        plan, pop = self.plan, self.pop
        out: dict[str, dict[Any, KindResult]] = {}
        cac: dict[Any, float | None] = {}
        for s in plan.stages:
            if s.kind == "acquisition":
                out[s.id] = acquisition.summarize(
                    pop, s, key, spend=self.spend, by_property=by_property
                )
                if not cac:
                    cac = {v: r.metrics["cac"] for v, r in out[s.id].items()}
            elif s.kind == "activation":
                out[s.id] = activation.summarize(pop, s, key)
            elif s.kind == "referral":
                out[s.id] = referral.summarize(pop, s, key)
            elif s.kind == "satisfaction":
                out[s.id] = satisfaction.summarize(pop, s, key)
        for s in plan.of_kind("revenue"):
            money = self.money[s.id]
            out[s.id] = revenue.summarize(
                revenue.with_paying(pop, money),
                money,
                s,
                key,
                keys=self.currencies[s.id],
                cac=cac,
            )
        return out

    def total(self) -> list[StageResult]:
        """Return every stage's result over the population, with its tables."""
        plan = self.plan
        steps = funnel_engine.summarize(self.frames["journeys"], plan.funnel, {}).steps
        kinds = self.kinds(None, None)
        results = []
        for s, step in zip(plan.stages, steps, strict=True):
            if s.kind == "retention":
                kind: KindResult | None = _retention_result(self.retention[s.id], s)
            else:
                kind = kinds.get(s.id, {}).get(ALL)
            results.append(
                StageResult(
                    index=s.index + 1,
                    name=s.stage.name,
                    kind=s.kind,
                    description=s.stage.description,
                    questions=list(s.stage.questions),
                    events=s.stage.event_names(),
                    numbers=_numbers(step, s.id, kind),
                    tables=self._tables(s),
                    notes=[*s.notes, *self._outside(s)],
                    retention=self.retention.get(s.id),
                )
            )
        return results

    def _outside(self, s: StagePlan) -> list[str]:
        """Return a note when units outside the population have amounts in the range."""
        if s.kind != "revenue":
            return []
        outside = self.frames[f"money:{s.id}"].join(self.pop.select(UNIT), on=UNIT, how="anti")
        if outside.height == 0:
            return []
        sums = outside.group_by(revenue.CUR).agg(pl.col("revenue").sum()).sort(revenue.CUR)
        amounts = ", ".join(
            f"{cur + ' ' if cur else ''}{value:,.2f}" for cur, value in sums.iter_rows()
        )
        first = self.plan.stages[0].stage.name
        units = outside[UNIT].n_unique()
        return [
            f"{units:,} unit(s) with no {first} event in the range have amounts here "
            f"({amounts}); they are outside the population and not counted"
        ]

    def _tables(self, s: StagePlan) -> dict[str, Any]:
        ctx = self.plan.ctx
        if s.kind == "acquisition":
            return acquisition.tables(self.pop, s, ctx, _period_range(ctx, self.span), self.spend)
        if s.kind == "revenue":
            observed = ctx.until or self.span.end
            if observed is None:
                return {}
            sizes = (
                self.pop.filter(pl.col(ACQUIRED))
                .group_by(
                    per.period_index(pl.col(ACQ), ctx.period, ctx.tz, ctx.week_start).alias("c")
                )
                .agg(pl.len().cast(pl.Int64).alias("size"))
                .sort("c")
            )
            return {
                "ltv_by_cohort": revenue.ltv_table(
                    self.frames[f"ltv:{s.id}"],
                    sizes,
                    self.currencies[s.id],
                    end=per.index_of(observed + ONE_US, ctx.period, ctx.tz, ctx.week_start),
                    last=per.index_of(observed, ctx.period, ctx.tz, ctx.week_start),
                    ctx=ctx,
                )
            }
        return {}

    def breakdown(self, i: int) -> Breakdown:
        """Return every stage's numbers per value of the i-th breakdown property."""
        plan = self.plan
        prop, key = plan.segments[i], plan.seg(i)
        spec = replace(plan.funnel, by=(key,))
        journeys_seg = self.frames["journeys"].join(
            self.units.select(pl.col(UNIT).alias("unit"), pl.col(key)), on="unit", how="left"
        )
        funnel = funnel_engine.summarize(journeys_seg, spec, {})
        steps_by_value = {g.value: g.steps for g in funnel.groups}
        kinds = self.kinds(key, prop)
        retention: dict[str, dict[Any, KindResult]] = {
            s.id: self._retention_groups(s, i) for s in plan.of_kind("retention")
        }
        sizes = dict(self.pop.group_by(key).len().iter_rows())
        values = set(sizes) | set(steps_by_value)
        for groups in retention.values():
            values |= set(groups)
        groups_out = []
        for value in pl.Series(list(values)).sort(nulls_last=True).to_list() if values else []:
            steps = steps_by_value.get(value)
            stages = []
            for k, s in enumerate(plan.stages):
                source = retention if s.kind == "retention" else kinds
                kind = source.get(s.id, {}).get(value)
                stages.append(_numbers(steps[k] if steps else None, s.id, kind))
            groups_out.append(
                BreakdownGroup(value=value, units=int(sizes.get(value, 0)), stages=stages)
            )
        return Breakdown(by=prop, groups=groups_out)

    def _retention_groups(self, s: StagePlan, i: int) -> dict[Any, KindResult]:
        plan = self.plan
        seg = plan.seg(i)
        report = retention_engine.retention_report(
            _parts(self.frames, f"ret:{s.id}:by{i}"),
            retention_spec(plan, s, seg),
            _retention_settings(plan, s),
        )
        churn = {row[seg]: row for row in self.frames[f"churn:{s.id}:by{i}"].iter_rows(named=True)}
        out: dict[Any, KindResult] = {}
        for group in report.groups:
            result = _retention_result(
                replace(
                    report, average=group.average, summary=_churn_summary(churn.get(group.value))
                ),
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


def assemble(
    frames: Mapping[str, pl.DataFrame],
    plan: MetricsPlan,
    span: Span,
    spend: acquisition.Spend | None = None,
    *,
    breakdowns: bool = True,
) -> tuple[list[StageResult], list[Breakdown], dict[str, Any]]:
    """Return the stage results, the breakdowns and the population summary."""
    asm = _Assembler(frames, plan, span, spend)
    stages = asm.total()
    groups = [asm.breakdown(i) for i in range(len(plan.segments))] if breakdowns else []
    population = {
        "units": asm.pop.height,
        "acquired": int(asm.pop[ACQUIRED].sum()),
        "first_stage": plan.stages[0].id,
    }
    return stages, groups, population
