"""Retention from per-unit bit masks of active periods, for short period ranges.

The same parts as :func:`cjkit.engine.cohorts.retention.retention_query` (``bounds``, ``cells``,
``churn``), equal row for row, but the events are reduced by one ``group_by(unit)`` to two
Int64 masks per unit (bit ``p − origin`` set when the unit had a start/return event in period
``p``) instead of a ``group_by(unit, period)`` and a sort of unit-periods by unit. The profile
(``benchmarks/README.md``, "Round two") has the figures.

It needs the period range of the (windowed) events before planning, :func:`period_span`, and
applies only when that range fits in :data:`MAX_SPAN` bits and the report has no breakdown and
no cumulative cells (:func:`applies`); the caller uses ``retention_query`` otherwise. Bit
arithmetic is integer ``//`` and ``%`` by powers of two (Polars expressions have no shifts).
"""

from __future__ import annotations

import polars as pl

from cjkit.canonical import USER
from cjkit.engine.cohorts import retention as ret

MAX_SPAN = 62  # bits 0..61 of an Int64, so 2^bit and the masks stay positive
SPAN_COLUMNS = ("lo", "hi")


def applies(spec: ret.RetentionSpec, span: tuple[int | None, int | None]) -> bool:
    """Return whether the mask plan can answer ``spec`` over events whose periods span ``span``."""
    lo, hi = span
    return (
        lo is not None
        and hi is not None
        and hi - lo + 1 <= MAX_SPAN
        and not spec.by
        and not spec.cumulative
        and spec.cohort == "recurring"
        and spec.periods <= ret.MASK_PERIODS
    )


def period_span(events: pl.LazyFrame, spec: ret.RetentionSpec) -> pl.LazyFrame:
    """Return one row: the smallest and largest period index (``lo``, ``hi``) of the events the
    report uses (nulls when there are none)."""
    p = ret._period(spec)
    return ret._window(events, spec).select(p.min().alias("lo"), p.max().alias("hi"))


def _pow2(exponent: pl.Expr) -> pl.Expr:
    return pl.lit(2, pl.Int64).pow(exponent.cast(pl.Int64))


def _bit(mask: str, offset: pl.Expr) -> pl.Expr:
    """Return whether bit ``offset`` of the mask column is set (False outside 0..MAX_SPAN − 1,
    where no bit is ever set; the clip keeps the power of two from overflowing)."""
    inside = (offset >= 0) & (offset < MAX_SPAN)
    power = _pow2(offset.clip(0, MAX_SPAN - 1))
    return pl.when(inside).then((pl.col(mask) // power) % 2 == 1).otherwise(False)


def mask_query(
    events: pl.LazyFrame, spec: ret.RetentionSpec, origin: int, width: int
) -> dict[str, pl.LazyFrame]:
    """Return the parts of ``retention_query`` from per-unit masks of periods
    ``origin .. origin + width − 1`` (every period of the events must lie there)."""
    frame = ret._window(events, spec)
    bit = _pow2(ret._period(spec) - origin)
    masks = []
    for name, matchers in (("sm", spec.start), ("rm", spec.returns)):
        on = bit if matchers is None else pl.when(ret._is(matchers)).then(bit).otherwise(0)
        masks.append(on.alias(name))
    same = spec.start is None and spec.returns is None
    # With "any event" for both, the two masks are the same: aggregate one.
    per_unit = frame.select(pl.col(spec.unit).alias(USER), *(masks[:1] if same else masks))
    aggs = [pl.col("sm").bitwise_or()]
    if not same:
        aggs.append(pl.col("rm").bitwise_or())
    units = per_unit.group_by(USER).agg(aggs).drop(USER)
    if same:
        units = units.with_columns(pl.col("sm").alias("rm"))
    # One row per (unit, period with a start or return): the unit-periods of retention_query.
    offsets = pl.LazyFrame({"o": pl.Series(range(width), dtype=pl.Int32)})
    rows = (
        units.join(offsets, how="cross")
        .with_columns(_bit("sm", pl.col("o")).alias("s"), _bit("rm", pl.col("o")).alias("r"))
        .filter(pl.col("s") | pl.col("r"))
        .with_columns((pl.col("o") + origin).cast(pl.Int32).alias("p"))
        .cache()
    )
    totals = ret._period_totals(events, spec).cache()
    bounds = ret._bounds(rows, totals, spec)
    ks = range(1, spec.periods + 1)
    members = ret._in_range(rows.with_columns(pl.col("s").alias("opens")), bounds)
    cells = members.group_by("c").agg(
        pl.len().cast(pl.Int64).alias("n0"),
        *[_bit("rm", pl.col("o") + k).sum().cast(pl.Int64).alias(f"n{k}") for k in ks],
    )
    active = rows.filter(pl.col("r")).with_columns(
        _bit("rm", pl.col("o") - 1).alias("prev"), _bit("rm", pl.col("o") + 1).alias("next")
    )
    return {"bounds": bounds, "cells": cells, "churn": ret.churn_of_active(active, totals)}
