"""Retention: cohort tables, the weighted-average curve, churn and usage frequency per period.

Semantics (the formulas are in docs/metrics.md, "Cohort metrics"):

* Periods are calendar periods cut in the report's zone (:mod:`cjkit.engine.periods`).
* ``recurring`` (PostHog's default): every period in which a unit did the start event opens a
  cohort row for it. ``first-time``: only the period of the unit's first-ever start event, over
  all history; a unit whose first start falls before the ``--since`` period is in no cohort.
* Column 0 is the cohort size. Cell k counts the cohort's units with a return event in period
  ``c + k`` ("on"), or in any period ``≥ c + k`` when ``cumulative`` ("on or after").
* Period ``c + k`` is *complete* when it ends at or before the observation end (``--until`` when
  given, else the data's last timestamp). The average curve pools complete cells only:
  ``average[k] = Σ counts[k] / Σ sizes`` over the cohorts whose period ``c + k`` is complete.
* Per calendar period P: ``active`` = units with a return event in P, ``retained`` = active in P
  and P−1, ``lost`` = active in P−1 but not P, ``new`` = active in P but not P−1;
  ``churn_rate = lost / active(P−1)`` and ``events_per_active_unit = return events / active``.

Interface for other commands (``cjkit metrics`` collects many queries in one ``pl.collect_all``)::

    spec = RetentionSpec(start=None, returns=None, period="week", periods=8, tz="UTC")
    parts = retention_query(events, spec)      # dict[str, pl.LazyFrame]; nothing is collected
    frames = dict(zip(parts, pl.collect_all(list(parts.values()))))
    report = retention_report(frames, spec, settings)       # -> RetentionReport (phase 2)

``events`` is a canonical event frame (``user_id``, ``event``, ``timestamp`` in UTC, plus the
properties ``spec.columns()`` names), already cleaned of rows without a unit or time. The parts
share the reductions of the events (a ``group_by`` to one row per unit and period, and one to a
row per period with its return events and last time) and one sort of the first; all are
``cache()`` nodes, computed once when the parts are collected together. :func:`combine` merges
the parts of passes over disjoint sets of units.
:func:`pack` folds the parts into one single-row LazyFrame (for ``api.collect_checked``) and
:func:`unpack` undoes it after the collect. :func:`sort_by_unit`, :func:`prev_adjacent` and
:func:`next_adjacent` are shared with :mod:`cjkit.engine.lifecycle`.

How it stays fast: events are reduced once to (unit, period) rows; those are sorted by one
Int64 key, so "the same unit in period p + k" is at most k rows further down. Cells of
horizons up to 24 periods come from k shifts folded into a bit mask; longer horizons use a
range join on the key; churn compares each row with its neighbours. No join of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import polars as pl

from cjkit.canonical import EVENT, ONE_US, TIME, USER, Period, WeekStart
from cjkit.engine import periods as per

# Phase 2 (the report from the collected parts) is its own module; re-exported here.
from cjkit.engine.cohorts.retention_summary import BY as BY
from cjkit.engine.cohorts.retention_summary import retention_report as retention_report
from cjkit.engine.earliest import earliest_code
from cjkit.engine.matchers import Matcher, predicate

MAX_PERIODS = 400
MASK_PERIODS = 24  # up to this horizon a bit mask of shifts; beyond it, a range join

CohortMode = Literal["recurring", "first-time"]


@dataclass(frozen=True)
class RetentionSpec:
    """Everything that decides a retention table.

    ``start``/``returns`` are matchers, or None for any event. ``since``/``until`` are UTC
    instants (inclusive); they are widened to whole periods for cohorts.
    """

    start: tuple[Matcher, ...] | None = None
    returns: tuple[Matcher, ...] | None = None
    period: Period = "week"
    periods: int = 8
    cohort: CohortMode = "recurring"
    cumulative: bool = False
    week_start: WeekStart = "monday"
    tz: str = "UTC"
    since: datetime | None = None
    until: datetime | None = None
    by: tuple[str, ...] = ()
    unit: str = USER

    def columns(self) -> list[str]:
        """Return the event columns this query reads (unit, event, time, filters, breakdowns)."""
        cols = [self.unit, EVENT, TIME, *self.by]
        for matchers in (self.start, self.returns):
            for m in matchers or ():
                cols.extend(m.properties())
        return list(dict.fromkeys(cols))

    def index(self, moment: datetime) -> int:
        """Return the index of the period holding ``moment``."""
        return per.index_of(moment, self.period, self.tz, self.week_start)


def _is(matchers: tuple[Matcher, ...] | None) -> pl.Expr:
    return pl.lit(value=True) if matchers is None else predicate(matchers)


def _codes(frame: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Return the distinct breakdown values, sorted (nulls last), numbered ``code`` 0, 1, …."""
    return (
        frame.select(by)
        .unique()
        .sort(list(by), nulls_last=True)
        .with_row_index("code")
        .with_columns(pl.struct([pl.col(b) for b in by]).alias(BY))
    )


def _unit_periods(
    events: pl.LazyFrame, spec: RetentionSpec, codes: pl.LazyFrame | None
) -> pl.LazyFrame:
    """Return one row per (unit, period) with any event.

    Columns: ``s``/``r`` (a start/return event happened) and, with a breakdown, ``code`` (the
    values on the first start event). Event counts and the last time are per period only
    (:func:`_period_totals`): aggregating them per (unit, period) made this group_by a third
    slower and a seventh bigger.
    """
    frame = _window(events, spec)
    is_start, is_return = _is(spec.start), _is(spec.returns)
    if codes is not None:
        frame = frame.join(
            codes.select("code", *spec.by), on=list(spec.by), how="left", nulls_equal=True
        )
    # "Any event" flags are constant: they are set after the group_by instead of aggregated
    # (each boolean aggregate costs about a tenth of the whole group_by).
    any_start, any_return = spec.start is None, spec.returns is None
    frame = frame.select(
        pl.col(spec.unit).alias(USER),
        *([pl.col(TIME), pl.col("code")] if codes is not None else []),
        _period(spec),
        *([] if any_start else [is_start.alias("s")]),
        *([] if any_return else [is_return.alias("r")]),
    )
    aggs = []
    if not any_start:
        aggs.append((pl.col("s").sum() > 0).alias("s"))
    if not any_return:
        aggs.append((pl.col("r").sum() > 0).alias("r"))
    if codes is not None:
        # The breakdown values on the first start event (equal times: the smallest values).
        first_start = pl.lit(value=True) if any_start else pl.col("s")
        aggs.append(earliest_code(first_start, pl.col("code")).alias("code"))
    grouped = frame.group_by(USER, "p").agg(aggs) if aggs else frame.unique()
    constant = [
        pl.lit(value=True).alias(c) for c, on in (("s", any_start), ("r", any_return)) if on
    ]
    return grouped.with_columns(constant) if constant else grouped


def _period(spec: RetentionSpec) -> pl.Expr:
    return per.period_index(pl.col(TIME), spec.period, spec.tz, spec.week_start).alias("p")


def _period_totals(events: pl.LazyFrame, spec: RetentionSpec) -> pl.LazyFrame:
    """Return one row per period with any event: ``events`` (return events) and ``tmax``."""
    returns = pl.len() if spec.returns is None else _is(spec.returns).sum()
    return (
        _window(events, spec)
        .group_by(_period(spec))
        .agg(returns.cast(pl.Int64).alias("events"), pl.col(TIME).max().alias("tmax"))
    )


def _window(events: pl.LazyFrame, spec: RetentionSpec) -> pl.LazyFrame:
    """Return the events the report can use: up to --until, and from one period before
    --since for recurring cohorts (first-time cohorts need the whole history).
    """
    frame = events
    if spec.until is not None:
        frame = frame.filter(pl.col(TIME) <= spec.until)
    if spec.since is not None and spec.cohort == "recurring":
        lower = per.start_of(spec.index(spec.since) - 1, spec.period, spec.tz, spec.week_start)
        frame = frame.filter(pl.col(TIME) >= lower)
    return frame


def _bounds(up: pl.LazyFrame, totals: pl.LazyFrame, spec: RetentionSpec) -> pl.LazyFrame:
    """Return one row: the cohort range [lo, hi], the churn range start ``plo``, ``end``
    (periods ``< end`` are complete) and ``observed_until``.
    """
    idx = pl.Int32
    last = pl.col("_last")
    if spec.until is not None:
        hi: pl.Expr = pl.lit(spec.index(spec.until), idx)
        end: pl.Expr = pl.lit(spec.index(spec.until + ONE_US), idx)
        observed: pl.Expr = pl.lit(spec.until, pl.Datetime("us", "UTC"))
    else:
        hi = per.period_index(last, spec.period, spec.tz, spec.week_start)
        # A period is complete when it ends at or before the last timestamp (+1 µs: the data
        # covers that instant, as a bare --until date covers its last microsecond).
        end = per.period_index(
            last + pl.duration(microseconds=1), spec.period, spec.tz, spec.week_start
        )
        observed = last
    if spec.since is not None:
        lo: pl.Expr = pl.lit(spec.index(spec.since), idx)
        plo: pl.Expr = lo
    else:
        lo = pl.col("p").filter(pl.col("s")).min()
        plo = pl.col("p").filter(pl.col("r")).min()
    rows = up.select(
        lo.cast(idx).alias("lo"),
        plo.cast(idx).alias("plo"),
        pl.col("s").sum().cast(pl.Int64).alias("start_rows"),
        pl.col("r").sum().cast(pl.Int64).alias("return_rows"),
    )
    time = totals.select(pl.col("tmax").max().alias("_last"))
    return pl.concat([rows, time], how="horizontal").select(
        "lo",
        hi.cast(idx).alias("hi"),
        end.cast(idx).alias("end"),
        "plo",
        observed.alias("observed_until"),
        "start_rows",
        "return_rows",
    )


def sort_by_unit(rows: pl.LazyFrame, reach: int = 1) -> pl.LazyFrame:
    """Return (unit, period) rows sorted by unit, then period, with ``uid`` and ``key``.

    ``uid`` numbers the units densely; ``key = uid × stride + (p − first period)`` is one Int64
    that orders the rows. Sorting on it is several times faster than a two-column sort. The
    stride leaves a gap of more than ``reach`` between units, so for two rows of the table
    ``key' − key`` is a period difference ≤ ``reach`` only when both rows are the same unit's.
    """
    units = rows.select(USER).unique().with_row_index("uid")
    low = pl.col("p").min()
    stride = (pl.col("p").max() - low + 2 + reach).cast(pl.Int64)
    key = pl.col("uid").cast(pl.Int64) * stride + (pl.col("p") - low).cast(pl.Int64)
    return rows.join(units, on=USER).with_columns(key.alias("key")).sort("key").drop(USER)


def prev_adjacent() -> pl.Expr:
    """Return, on :func:`sort_by_unit` rows, whether the row before is the same unit's P−1."""
    return (pl.col("key") - pl.col("key").shift(1) == 1).fill_null(value=False)


def next_adjacent() -> pl.Expr:
    """Return, on :func:`sort_by_unit` rows, whether the row after is the same unit's P+1."""
    return (pl.col("key").shift(-1) - pl.col("key") == 1).fill_null(value=False)


def first_of_unit(flag: pl.Expr) -> pl.Expr:
    """Return, on :func:`sort_by_unit` rows, whether a row is its unit's first ``flag`` row."""
    seen = flag.cast(pl.UInt32).cum_sum()
    starts = (pl.col("uid").shift(1) != pl.col("uid")).fill_null(value=True)
    # The running count of flagged rows just before each unit's first row, carried down.
    before = pl.when(starts).then(seen - flag.cast(pl.UInt32)).forward_fill()
    return flag & (seen - before == 1)


def _return_mask(n: int) -> pl.Expr:
    """Return a bit mask per row: bit k is on when the unit returns in period p + k (k ≤ n).

    Rows come from :func:`sort_by_unit` with ``reach ≥ n``: one row per period, so a return in
    p + k is at most k rows later, and ``key`` differences of at most n stay inside a unit.
    n shifts find every return within n periods, with no join.
    """
    returns = pl.when(pl.col("r")).then(pl.col("key"))
    terms = []
    for j in range(1, n + 1):
        gap = returns.shift(-j) - pl.col("key")  # null when row +j is no return
        terms.append(pl.when(gap <= n).then(pl.lit(2, pl.Int64).pow(gap)).otherwise(0))
    # Each return period sets its own bit, so the sum is the bitwise OR.
    return pl.sum_horizontal(terms)


def _in_range(frame: pl.LazyFrame, bounds: pl.LazyFrame) -> pl.LazyFrame:
    """Return the rows of ``frame`` whose opening period ``p`` lies in [lo, hi]."""
    return (
        frame.join(bounds.select("lo", "hi"), how="cross")
        .filter(pl.col("opens") & pl.col("p").is_between(pl.col("lo"), pl.col("hi")))
        .drop("lo", "hi")
        .with_columns(pl.col("p").alias("c"))
    )


def _cells(
    rows: pl.LazyFrame, spec: RetentionSpec, bounds: pl.LazyFrame, codes: pl.LazyFrame | None
) -> pl.LazyFrame:
    """Return per (cohort, breakdown value): ``n0`` (size) and ``n1..nN`` (returned units).

    ``rows`` are the (unit, period) rows with a start or return event, from :func:`sort_by_unit`;
    ``codes`` maps the breakdown code of a row to its values.
    """
    opens = first_of_unit(pl.col("s")) if spec.cohort == "first-time" else pl.col("s")
    keys = ["c", *(["code"] if codes is not None else [])]
    ks = range(1, spec.periods + 1)
    size = pl.len().cast(pl.Int64).alias("n0")
    if spec.cumulative:
        # "On or after" period c + k: the unit's last return period is at least c + k.
        last = rows.group_by("uid").agg(pl.col("p").filter(pl.col("r")).max().alias("last"))
        members = _in_range(rows.with_columns(opens.alias("opens")), bounds).join(last, on="uid")
        cells = members.group_by(keys).agg(
            size,
            *[(pl.col("last") >= pl.col("c") + k).sum().cast(pl.Int64).alias(f"n{k}") for k in ks],
        )
    elif spec.periods <= MASK_PERIODS:
        members = _in_range(
            rows.with_columns(_return_mask(spec.periods).alias("mask"), opens.alias("opens")),
            bounds,
        )
        cells = members.group_by(keys).agg(
            size,
            *[((pl.col("mask") & (1 << k)) != 0).sum().cast(pl.Int64).alias(f"n{k}") for k in ks],
        )
    else:
        cells = _cells_by_range_join(
            _in_range(rows.with_columns(opens.alias("opens")), bounds), rows, keys, spec.periods
        )
    if codes is None:
        return cells
    return cells.join(codes.select("code", BY), on="code", how="left").drop("code")


def _cells_by_range_join(
    members: pl.LazyFrame, rows: pl.LazyFrame, keys: list[str], n: int
) -> pl.LazyFrame:
    """Return the cells of long horizons: pair each cohort row with the unit's returns in
    periods c + 1 … c + n (a range join on ``key``), then count pairs by period offset.
    """
    sizes = members.group_by(keys).agg(pl.len().cast(pl.Int64).alias("n0"))
    returns = rows.filter(pl.col("r")).select(pl.col("key").alias("back"))
    offsets = (
        members.select("key", *keys)
        .join_where(returns, pl.col("back") > pl.col("key"), pl.col("back") <= pl.col("key") + n)
        .group_by(*keys, (pl.col("back") - pl.col("key")).alias("k"))
        .agg(pl.len().cast(pl.Int64).alias("units"))
        .group_by(keys)
        .agg(
            *[
                pl.col("units").filter(pl.col("k") == k).sum().alias(f"n{k}")
                for k in range(1, n + 1)
            ]
        )
    )
    counts = [f"n{k}" for k in range(1, n + 1)]
    return sizes.join(offsets, on=keys, how="left", nulls_equal=True).with_columns(
        pl.col(counts).fill_null(0)
    )


def _churn(rows: pl.LazyFrame, totals: pl.LazyFrame) -> pl.LazyFrame:
    """Return per period P with activity: active, retained, lost, new and return events (the
    report cuts them to its range, :func:`cjkit.engine.cohorts.retention_summary._churn_on_grid`)."""
    active = rows.filter(pl.col("r")).with_columns(
        prev_adjacent().alias("prev"), next_adjacent().alias("next")
    )
    return churn_of_active(active, totals)


def churn_of_active(active: pl.LazyFrame, totals: pl.LazyFrame) -> pl.LazyFrame:
    """Return the churn rows of :func:`_churn` from one row per (unit, period ``p``) with a
    return event, flagged ``prev``/``next`` when the unit also returns in P−1/P+1."""
    current = active.group_by("p").agg(
        pl.len().cast(pl.Int64).alias("active"),
        pl.col("prev").sum().cast(pl.Int64).alias("retained"),
    )
    # A unit active in P and not in P+1 is lost in P+1.
    lost = (
        active.filter(~pl.col("next"))
        .group_by((pl.col("p") + 1).alias("p"))
        .agg(pl.len().cast(pl.Int64).alias("lost"))
    )
    # Every period with something to count, not cut to this pass's range: in passes over sets
    # of units, a pass's units may end before the data does, and their "lost" rows in the
    # period after their last one belong to the global range that the report cuts to.
    keys = pl.concat(
        [current.select("p"), lost.select("p"), totals.select(pl.col("p").cast(pl.Int32))]
    ).unique()
    return (
        keys.join(current, on="p", how="left")
        .join(totals.select(pl.col("p").cast(pl.Int32), "events"), on="p", how="left")
        .join(lost, on="p", how="left")
        .with_columns(pl.col("active", "retained", "events", "lost").fill_null(0))
        .with_columns((pl.col("active") - pl.col("retained")).alias("new"))
        .sort("p")
    )


def retention_query(events: pl.LazyFrame, spec: RetentionSpec) -> dict[str, pl.LazyFrame]:
    """Return the lazy parts of a retention report: ``bounds``, ``cells`` and ``churn``.

    ``bounds`` is one row: the cohort range ``lo``..``hi`` and the churn range ``plo``..``hi``
    (period indices), ``end`` (periods ``< end`` are complete), ``observed_until``, and
    ``start_rows``/``return_rows`` (unit-periods with a start/return event). ``cells`` has one
    row per cohort period ``c`` (and breakdown value ``__by``, a struct) with ``n0`` (size) and
    ``n1..nN``; only cohorts with a start appear. ``churn`` has one row per period ``p`` with
    activity (active, new, retained, lost, events); the report cuts it to ``plo..hi``.
    """
    if not 1 <= spec.periods <= MAX_PERIODS:
        msg = f"periods must be between 1 and {MAX_PERIODS}, got {spec.periods}"
        raise ValueError(msg)
    # The parts read different columns of these two tables, which hides them from Polars'
    # common-subplan detection: cache() makes each one computed once per collect.
    codes = _codes(_window(events, spec), spec.by).cache() if spec.by else None
    up = _unit_periods(events, spec, codes).cache()
    totals = _period_totals(events, spec).cache()
    bounds = _bounds(up, totals, spec)
    # One sort by (unit, period) serves both the cohort cells and churn: neighbours in time are
    # neighbouring rows, so "back in period p + k" is a shift, not a join.
    keep = [USER, "p", "s", "r", *(["code"] if spec.by else [])]
    rows = sort_by_unit(up.filter(pl.col("s") | pl.col("r")).select(keep), spec.periods).cache()
    return {
        "bounds": bounds,
        "cells": _cells(rows, spec, bounds, codes),
        "churn": _churn(rows, totals),
    }


def combine(parts: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Return the collected parts of disjoint sets of units as one report's parts.

    Every count adds up across sets of units (a unit's whole history is in one set); the
    ranges widen to cover them all, and churn gets a row for every period of the widened range.
    """
    if len(parts) == 1:
        return parts[0]
    bounds = pl.concat([p["bounds"] for p in parts]).select(
        pl.col("lo").min(),
        pl.col("hi").max(),
        pl.col("end").max(),
        pl.col("plo").min(),
        pl.col("observed_until").max(),
        pl.col("start_rows").sum(),
        pl.col("return_rows").sum(),
    )
    cells = pl.concat([p["cells"] for p in parts])
    keys = [c for c in ("c", BY) if c in cells.columns]
    cells = cells.group_by(keys).agg(pl.exclude(keys).sum())
    churn = (
        pl.concat([p["churn"] for p in parts]).group_by("p").agg(pl.exclude("p").sum()).sort("p")
    )
    return {"bounds": bounds, "cells": cells, "churn": churn}


def pack(parts: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Return one single-row LazyFrame holding every part as a list of structs."""
    return pl.concat(
        [lf.select(pl.struct(pl.all()).implode().alias(name)) for name, lf in parts.items()],
        how="horizontal",
    )


def unpack(packed: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Return the parts of a collected :func:`pack` frame."""
    return {name: packed[name][0].struct.unnest() for name in packed.columns}
