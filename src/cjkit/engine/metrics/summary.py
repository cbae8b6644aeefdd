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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import polars as pl

from cjkit.canonical import USER
from cjkit.engine import periods as per
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.metrics.base import ACQUIRED, ALL, POP, Context, KindResult
from cjkit.engine.metrics.kinds import acquisition, engine
from cjkit.engine.metrics.plan import MetricsPlan
from cjkit.report.core import FunnelStep
from cjkit.report.metrics import Breakdown, BreakdownGroup, StageNumbers, StageResult
from cjkit.timerange import zone


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


class View:
    """Phase 2: the collected tables and what every kind's summary reads (the population, the
    spend in the report's dates), then the stage results for the population and each group."""

    def __init__(
        self,
        frames: Mapping[str, pl.DataFrame],
        plan: MetricsPlan,
        span: Span,
        spend: acquisition.Spend | None,
    ) -> None:
        self.frames = frames
        self.plan = plan
        self.ctx = plan.ctx
        self.span = span
        self.units = frames["units"]
        self.pop = self.units.filter(pl.col(POP))
        self.spend = spend.between(*spend_dates(plan.ctx, span)) if spend is not None else None
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """Return ``make()``, computed once per key (a kind's tables shared by its hooks)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def group(self, segment: int | None) -> tuple[str | None, str | None]:
        """Return (the per-unit column, the property) of a breakdown, (None, None) for all."""
        if segment is None:
            return None, None
        return self.plan.seg(segment), self.plan.segments[segment]

    def period_range(self) -> tuple[int, int] | None:
        """Return the inclusive period indices of the range, closed by the data's span."""
        return _period_range(self.ctx, self.span)

    def kinds(self, segment: int | None) -> dict[str, dict[Any, KindResult]]:
        """Return, per stage id, the kind results per group value (ALL when ``segment`` is
        None), in the kinds' summary order."""
        out: dict[str, dict[Any, KindResult]] = {}
        for s in sorted(self.plan.stages, key=lambda s: engine(s.kind).order):
            out[s.id] = engine(s.kind).summarize(self, s, segment, out)
        return out

    def total(self) -> list[StageResult]:
        """Return every stage's result over the population, with its tables."""
        plan = self.plan
        steps = funnel_engine.summarize(self.frames["journeys"], plan.funnel, {}).steps
        kinds = self.kinds(None)
        results = []
        for s, step in zip(plan.stages, steps, strict=True):
            code = engine(s.kind)
            results.append(
                StageResult(
                    index=s.index + 1,
                    name=s.stage.name,
                    kind=s.kind,
                    description=s.stage.description,
                    questions=list(s.stage.questions),
                    events=s.stage.event_names(),
                    numbers=_numbers(step, s.id, kinds.get(s.id, {}).get(ALL)),
                    tables=code.tables(self, s),
                    notes=[*s.notes, *code.notes(self, s)],
                    retention=code.retention(self, s),
                )
            )
        return results

    def breakdown(self, i: int) -> Breakdown:
        """Return every stage's numbers per value of the i-th breakdown property."""
        plan = self.plan
        prop, key = plan.segments[i], plan.seg(i)
        spec = replace(plan.funnel, by=(key,))
        journeys_seg = self.frames["journeys"].join(
            self.units.select(pl.col(USER).alias("unit"), pl.col(key)), on="unit", how="left"
        )
        funnel = funnel_engine.summarize(journeys_seg, spec, {})
        steps_by_value = {g.value: g.steps for g in funnel.groups}
        kinds = self.kinds(i)
        sizes = dict(self.pop.group_by(key).len().iter_rows())
        values = set(sizes) | set(steps_by_value)
        for s in plan.stages:
            if engine(s.kind).adds_groups:
                values |= set(kinds.get(s.id, {}))
        groups_out = []
        for value in pl.Series(list(values)).sort(nulls_last=True).to_list() if values else []:
            steps = steps_by_value.get(value)
            stages = [
                _numbers(steps[k] if steps else None, s.id, kinds.get(s.id, {}).get(value))
                for k, s in enumerate(plan.stages)
            ]
            groups_out.append(
                BreakdownGroup(value=value, units=int(sizes.get(value, 0)), stages=stages)
            )
        return Breakdown(by=prop, groups=groups_out)


def assemble(
    frames: Mapping[str, pl.DataFrame],
    plan: MetricsPlan,
    span: Span,
    spend: acquisition.Spend | None = None,
    *,
    breakdowns: bool = True,
) -> tuple[list[StageResult], list[Breakdown], dict[str, Any]]:
    """Return the stage results, the breakdowns and the population summary."""
    view = View(frames, plan, span, spend)
    stages = view.total()
    groups = [view.breakdown(i) for i in range(len(plan.segments))] if breakdowns else []
    population = {
        "units": view.pop.height,
        "acquired": int(view.pop[ACQUIRED].sum()),
        "first_stage": plan.stages[0].id,
    }
    return stages, groups, population
