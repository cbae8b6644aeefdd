"""Phase 2 of a funnel: the journey table (one row per unit) → step counts, rates, times."""

from __future__ import annotations

from typing import Any

import polars as pl

from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.stats import ci_dict, ratio
from cjkit.report.core import FunnelGroup, FunnelReport, FunnelStep, TimeToConvert


def _step_stats(units: pl.DataFrame, n: int) -> pl.DataFrame:
    """Return one row: per step its count, and mean/median/p90 seconds from the previous step."""
    return units.select(_step_stats_exprs(n))


def _steps(stats: dict[str, Any], spec: FunnelSpec) -> list[FunnelStep]:
    counts = [int(stats[f"c{k}"] or 0) for k in range(1, spec.n + 1)]
    steps: list[FunnelStep] = []
    for k, step in enumerate(spec.steps, start=1):
        count = counts[k - 1]
        prev = counts[k - 2] if k > 1 else count
        first = counts[0]
        ttc = None
        if k > 1 and count:
            ttc = TimeToConvert(
                mean_s=_num(stats[f"mean{k}"]),
                median_s=_num(stats[f"median{k}"]),
                p90_s=_num(stats[f"p90{k}"]),
            )
        steps.append(
            FunnelStep(
                index=k,
                name=step.name,
                events=[m.name for m in step.matchers],
                count=count,
                conversion_from_previous=ratio(count, prev),
                conversion_from_start=ratio(count, first),
                drop_off=prev - count,
                time_to_convert=ttc,
                ci={
                    "conversion_from_previous": ci_dict(count, prev),
                    "conversion_from_start": ci_dict(count, first),
                },
            )
        )
    return steps


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def summarize(units: pl.DataFrame, spec: FunnelSpec, settings: dict[str, Any]) -> FunnelReport:
    """Return the funnel report of a journey table (excluded units count at no step)."""
    excluded = int(units["excluded"].sum()) if units.height else 0
    kept = units.filter(~pl.col("excluded"))
    overall = _steps(_step_stats(kept, spec.n).row(0, named=True), spec)
    groups: list[FunnelGroup] = []
    by = list(spec.by)
    if by:
        per_group = kept.group_by(by).agg(_step_stats_exprs(spec.n)).sort(by, nulls_last=True)
        for row in per_group.iter_rows(named=True):
            value = row[by[0]] if len(by) == 1 else [row[c] for c in by]
            groups.append(FunnelGroup(value=value, steps=_steps(row, spec)))
    return FunnelReport(
        settings=settings, steps=overall, by=by, groups=groups, excluded_units=excluded
    )


def _step_stats_exprs(n: int) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for k in range(1, n + 1):
        reached = pl.col("level") >= k
        exprs.append(reached.sum().alias(f"c{k}"))
        if k > 1:
            gap = ((pl.col(f"t_{k}") - pl.col(f"t_{k - 1}")) / 1_000_000).filter(reached)
            exprs += [
                gap.mean().alias(f"mean{k}"),
                gap.median().alias(f"median{k}"),
                gap.quantile(0.9, interpolation="linear").alias(f"p90{k}"),
            ]
    return exprs
