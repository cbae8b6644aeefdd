"""Funnel trends: conversion by the period in which units entered (PostHog's historical trends).

Every step-1 event in range opens an attempt; a unit counts once per entry period, at the
furthest step that any of its attempts starting in that period reached, and may appear in
several periods (PostHog ``test_funnel_trends.py``: ``test_one_person_in_multiple_periods_and_
windows`` gives 1/1, 0/0, 1/0, 2/1 by day). A step-1 event whose attempt merged into a later
one (same next event: the later start re-anchors) still counts its period's entry at step 1.
Attempts removed by an exclusion step do not count; a (unit, period) with only excluded
attempts is left out.

A period is ``complete`` once every unit that entered in it has had the whole window: its
last moment plus the window is at or before the data's last event; ``completes_at`` says when.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from cjkit.canonical import ONE_US, UID, Period, T, WeekStart
from cjkit.engine import periods as per
from cjkit.engine.funnel.journeys import POS, FunnelSpec, attempts


def _period_of(col: str, period: Period, tz: str, week_start: WeekStart) -> pl.Expr:
    moment = pl.from_epoch(pl.col(col), time_unit="us").dt.replace_time_zone("UTC")
    return per.period_index(moment, period, tz, week_start).cast(pl.Int64).alias("_period")


def _in_range(spec: FunnelSpec) -> pl.Expr:
    expr = pl.col("m_1")
    if spec.since is not None:
        expr = expr & (pl.col(T) >= int(spec.since.timestamp() * 1_000_000))
    if spec.until is not None:
        expr = expr & (pl.col(T) <= int(spec.until.timestamp() * 1_000_000))
    return expr


def trend_counts(
    table: pl.DataFrame, spec: FunnelSpec, period: Period, tz: str, week_start: WeekStart
) -> pl.DataFrame:
    """Return ``_period, c1..cn``: per entry period, the units reaching each step. Counts of
    disjoint sets of units (passes over unit partitions) add up."""
    when = _period_of("start", period, tz, week_start)
    tried = (
        attempts(table, spec)
        .with_columns(when)
        .group_by(UID, "_period")
        .agg(
            pl.col("level").filter(~pl.col("excluded")).max().alias("_clean"),
            pl.col("excluded").any().alias("_excluded"),
        )
    )
    entered = (
        table.lazy()
        .filter(_in_range(spec))
        .select(UID, pl.col(T).alias("start"), POS)
        .with_columns(when)
        .select(UID, "_period")
        .unique()
    )
    level = (
        pl.when(pl.col("_clean").is_not_null())
        .then(pl.col("_clean"))
        .when(pl.col("_excluded").fill_null(value=False))
        .then(None)
        .otherwise(1)
    )
    per_unit = (
        entered.join(tried, on=[UID, "_period"], how="left")
        .with_columns(level.alias("level"))
        .filter(pl.col("level").is_not_null())
    )
    return (
        per_unit.group_by("_period")
        .agg([(pl.col("level") >= k).sum().alias(f"c{k}") for k in range(1, spec.n + 1)])
        .collect()
    )


def merge(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Return the sum of several passes' :func:`trend_counts`."""
    frame = pl.concat(parts)
    return frame.group_by("_period").agg(pl.exclude("_period").sum())


def trend_rows(
    counts: pl.DataFrame,
    spec: FunnelSpec,
    period: Period,
    tz: str,
    week_start: WeekStart,
    data_end: datetime | None,
) -> list[dict[str, Any]]:
    """Return one row per period of the range: ``period`` (its first day), ``counts`` (units
    entering then who reach each step), ``conversion_from_start``, ``complete`` and
    ``completes_at``. Periods without entries are listed with zero counts."""
    found = {int(r["_period"]): r for r in counts.iter_rows(named=True)}
    lo = (
        per.index_of(spec.since, period, tz, week_start) if spec.since else min(found, default=None)
    )
    hi = (
        per.index_of(spec.until, period, tz, week_start) if spec.until else max(found, default=None)
    )
    if lo is None or hi is None:
        return []
    window = timedelta(seconds=spec.window_s)
    rows = []
    for index in range(lo, hi + 1):
        row = found.get(index)
        c = [int(row[f"c{k}"]) if row else 0 for k in range(1, spec.n + 1)]
        done = per.start_of(index + 1, period, tz, week_start) - ONE_US + window
        rows.append(
            {
                "period": per.start_date(index, period, week_start).isoformat(),
                "counts": c,
                "conversion_from_start": [x / c[0] if c[0] else None for x in c],
                "complete": data_end is not None and done <= data_end,
                "completes_at": done.isoformat(),
            }
        )
    return rows
