"""Retention, phase 2: the collected parts of the query (:mod:`cjkit.engine.cohorts.retention`)
become the report: cohort rows, the weighted-average curve, churn per period and the summary.

Small eager frames only (one row per cohort and breakdown value, one per period); the formulas
are in docs/metrics.md, "Cohort metrics".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.engine import periods as per
from cjkit.engine.stats import ci_dict, ratio
from cjkit.report.cohorts import (
    ChurnPeriod,
    RetentionCohort,
    RetentionCurve,
    RetentionGroup,
    RetentionReport,
)

if TYPE_CHECKING:
    from cjkit.engine.cohorts.retention import RetentionSpec

BY = "__by"  # the breakdown values, one struct, so property names never clash with ours


def _churn_on_grid(churn: pl.DataFrame, plo: Any, hi: Any) -> tuple[pl.DataFrame, bool]:
    """Return the churn rows of the report's periods plo..hi (zeros where nothing happened)."""
    lo_i, hi_i = (int(plo), int(hi)) if plo is not None and hi is not None else (None, None)
    periods, sparse = per.grid(lo_i, hi_i, churn["p"])
    counts = [c for c in churn.columns if c != "p"]
    table = (
        periods.to_frame()
        .join(churn.with_columns(pl.col("p").cast(pl.Int32)), on="p", how="left")
        .with_columns(pl.col(counts).fill_null(0))
        .sort("p")
    )
    return table, sparse


def _curve_exprs(n: int) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for k in range(n + 1):
        complete = pl.col("c") + k < pl.col("end")
        exprs.append(pl.col("n0").filter(complete).sum().alias(f"size{k}"))
        exprs.append(pl.col(f"n{k}").filter(complete).sum().alias(f"count{k}"))
    return exprs


def _curve(cells: pl.DataFrame, end: int, n: int) -> RetentionCurve:
    row = (
        cells.with_columns(pl.lit(end, pl.Int32).alias("end"))
        .select(_curve_exprs(n))
        .row(0, named=True)
    )
    sizes = [int(row[f"size{k}"] or 0) for k in range(n + 1)]
    counts = [int(row[f"count{k}"] or 0) for k in range(n + 1)]
    return RetentionCurve(
        rates=[ratio(c, s) for c, s in zip(counts, sizes, strict=True)],
        counts=counts,
        sizes=sizes,
        ci=[ci_dict(c, s) for c, s in zip(counts, sizes, strict=True)],
    )


def _cohort_rows(cells: pl.DataFrame, end: int, hi: int, n: int) -> list[RetentionCohort]:
    out: list[RetentionCohort] = []
    for row in cells.iter_rows(named=True):
        size = int(row["n0"])
        c = int(row["c"])
        counts = [int(row[f"n{k}"]) for k in range(n + 1)]
        out.append(
            RetentionCohort(
                cohort=row["cohort"].isoformat(),
                index=c,
                size=size,
                counts=counts,
                rates=[ratio(count, size) for count in counts],
                complete=[c + k < end for k in range(n + 1)],
                ci=[ci_dict(count, size) for count in counts],
                observed=max(0, min(n + 1, hi - c + 1)),
            )
        )
    return out


def _filled(cells: pl.DataFrame, spine: pl.DataFrame, n: int, spec: RetentionSpec) -> pl.DataFrame:
    """Return one row per cohort period of the spine (zeros where nobody started)."""
    counts = [f"n{k}" for k in range(n + 1)]
    summed = cells.group_by("c").agg(pl.col(counts).sum())
    return (
        spine.join(summed, on="c", how="left")
        .with_columns(pl.col(counts).fill_null(0))
        .with_columns(per.index_start(pl.col("c"), spec.period, spec.week_start).alias("cohort"))
        .sort("c")
    )


def _split(cells: pl.DataFrame, by: Sequence[str]) -> list[tuple[Any, pl.DataFrame]]:
    """Return (breakdown value, cells) per value, sorted by value with nulls last."""
    names = [f"__by{i}" for i in range(len(by))]
    flat = cells.with_columns(pl.col(BY).struct.rename_fields(names).struct.unnest()).drop(BY)
    keys = flat.select(names).unique().sort(names, nulls_last=True).with_row_index("__g")
    flat = flat.join(keys, on=names, how="left", nulls_equal=True)
    out: list[tuple[Any, pl.DataFrame]] = []
    for g, *values in keys.iter_rows():
        value = values[0] if len(by) == 1 else list(values)
        out.append((value, flat.filter(pl.col("__g") == g)))
    return out


def retention_report(
    frames: dict[str, pl.DataFrame], spec: RetentionSpec, settings: dict[str, Any]
) -> RetentionReport:
    """Return the report from the collected parts of :func:`retention_query`."""
    bounds = frames["bounds"].row(0, named=True) if frames["bounds"].height else {}
    lo, hi, end = bounds.get("lo"), bounds.get("hi"), bounds.get("end")
    end_i = int(end) if end is not None else -(2**31)
    hi_i = int(hi) if hi is not None else -(2**31)
    n = spec.periods
    cells = frames["cells"]
    cohort_periods, sparse = per.grid(
        int(lo) if lo is not None else None, int(hi) if hi is not None else None, cells["c"]
    )
    spine = cohort_periods.rename("c").to_frame()
    overall = _filled(cells, spine, n, spec)
    groups: list[RetentionGroup] = []
    if spec.by:
        for value, part in _split(cells, spec.by):
            filled = _filled(part, spine, n, spec)
            groups.append(
                RetentionGroup(
                    value=value,
                    cohorts=_cohort_rows(filled, end_i, hi_i, n),
                    average=_curve(filled, end_i, n),
                )
            )
    churn, churn_sparse = _churn_on_grid(frames["churn"], bounds.get("plo"), hi)
    period_rows = [
        ChurnPeriod(
            period=day.isoformat(),
            complete=int(r["p"]) < end_i,
            active=int(r["active"]),
            new=int(r["new"]),
            retained=int(r["retained"]),
            lost=int(r["lost"]),
            churn_rate=ratio(r["lost"], r["lost"] + r["retained"]),
            churn_ci=ci_dict(int(r["lost"]), int(r["lost"] + r["retained"])),
            events=int(r["events"]),
            events_per_active_unit=ratio(r["events"], r["active"]),
        )
        for r, day in zip(
            churn.iter_rows(named=True),
            churn.select(per.index_start(pl.col("p"), spec.period, spec.week_start))
            .to_series()
            .to_list(),
            strict=True,
        )
    ]
    done = [p for p in period_rows if p.complete]
    at_start = sum(p.lost + p.retained for p in done)
    lost = sum(p.lost for p in done)
    observed = bounds.get("observed_until")
    warnings = [
        f"no {what} event ({settings.get(key, '?')}) in the data range"
        for what, key, rows in (
            ("start", "start_event", "start_rows"),
            ("return", "return_event", "return_rows"),
        )
        if not bounds.get(rows)
    ]
    if sparse or churn_sparse:
        starts = [int(v) for v in (lo, bounds.get("plo")) if v is not None]
        listed = max(spine.height, churn.height)
        warnings.append(per.sparse_warning(min(starts), hi_i, listed, spec.period))
    return RetentionReport(
        settings={
            **settings,
            "observed_until": observed.isoformat() if observed is not None else None,
        },
        cohorts=_cohort_rows(overall, end_i, hi_i, n),
        average=_curve(overall, end_i, n),
        periods=period_rows,
        summary={
            "churn_rate": ratio(lost, at_start),
            "churn_ci": ci_dict(lost, at_start),
            "events_per_active_unit": ratio(
                sum(p.events for p in done), sum(p.active for p in done)
            ),
            "complete_periods": len(done),
        },
        by=list(spec.by),
        groups=groups,
        warnings=warnings,
    )
