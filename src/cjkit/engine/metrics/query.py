"""Phase 1 of ``cjkit metrics``: the lazy queries over the model's events.

The per-unit table (population flags, acquisition time, segment values and each stage kind's
per-unit facts), the funnel's journeys, the revenue tables and the retention cohorts, all to be
collected together with one ``pl.collect_all``. Definitions shared by every kind (population,
acquisition, segment) are in :mod:`.summary` and docs/metrics.md, "Stage metrics".
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from cjkit.canonical import TIME, USER
from cjkit.engine.funnel.journeys import journeys
from cjkit.engine.matchers import predicate
from cjkit.engine.metrics.base import ACQ, ACQUIRED, IN, POP, Context
from cjkit.engine.metrics.kinds import QueryInput, engine
from cjkit.engine.metrics.plan import MetricsPlan


def columns_needed(plan: MetricsPlan) -> list[str]:
    """Return the event columns the report reads."""
    cols = [*plan.funnel.columns(), *plan.segments]
    for s in plan.stages:
        cols.extend(engine(s.kind).keep_columns(s))
    for s in plan.stages:
        for m in s.matchers:
            cols.extend(m.properties())
        cols.extend(engine(s.kind).columns(s))
    return list(dict.fromkeys(cols))


def narrow(events: pl.LazyFrame, plan: MetricsPlan) -> pl.LazyFrame:
    """Return the events the report reads: its columns, a flag per stage, and only the rows
    that match a stage, an exclusion step or one a kind keeps (such as rows that carry a
    referrer; all rows for a strict funnel, whose attempts any other event breaks)."""
    flags = [predicate(s.matchers).alias(s.flag) for s in plan.stages]
    frame = events.select(*[pl.col(c) for c in columns_needed(plan)], *flags)
    if plan.funnel.order == "strict":
        return frame
    keep = [pl.col(s.flag) for s in plan.stages]
    keep += [predicate(e.matchers) for e in plan.funnel.exclusions]
    keep += [k for s in plan.stages for k in engine(s.kind).keep(s)]
    return frame.filter(pl.any_horizontal(keep))


def _segment(prop: str, first_stage: str) -> pl.Expr:
    """Return (in a group_by unit) the value on the first first-stage event in the range."""
    first = pl.col(first_stage)
    # Typed literals: Polars 2.1 can't row-encode untyped integer literals with other keys.
    rank = (
        pl.when(first & pl.col(IN))
        .then(pl.lit(0, pl.Int8))
        .when(first)
        .then(pl.lit(1, pl.Int8))
        .otherwise(pl.lit(2, pl.Int8))
    )
    return pl.col(prop).sort_by([rank, pl.col(TIME), pl.col(prop)], nulls_last=True).first()


def _with_values(plan: MetricsPlan, frame: pl.LazyFrame) -> Context:
    """Return the plan's context with the sorted text values of the columns the kinds read
    with ``earliest_value`` (the acquisition channel, the referrer); ``frame`` is in memory."""
    columns = [c for s in plan.stages for c in engine(s.kind).text_columns(s)]
    if not columns:
        return plan.ctx
    found = frame.select(
        pl.col(c).cast(pl.String).drop_nulls().unique().sort().implode()
        for c in dict.fromkeys(columns)
    ).collect()
    values = {c: tuple(found[c][0].to_list()) for c in found.columns}
    return replace(plan.ctx, values=values)


def queries(frame: pl.LazyFrame, plan: MetricsPlan) -> dict[str, pl.LazyFrame]:
    """Return every lazy query of the report, keyed by name, to collect together.

    ``frame`` is :func:`narrow`'s result (materialized, so the file is scanned once). Note that
    :func:`cjkit.engine.journeys.journeys` materializes its sorted base when called.
    """
    ctx = _with_values(plan, frame)
    first = plan.stages[0].flag
    # The per-unit, money and LTV queries all read this table: cache() computes it once.
    # The acquisition time is a per-unit aggregate here and is joined onto the few revenue
    # events that need it: a window over every event (``over(unit)``) cost more than all the
    # rest of the per-unit table.
    events = frame.with_columns(ctx.in_range(pl.col(TIME)).alias(IN)).cache()
    aggs: list[pl.Expr] = [
        (pl.col(first) & pl.col(IN)).any().alias(POP),
        ctx.acquisition().alias(ACQ),
        *[_segment(prop, first).alias(plan.seg(i)) for i, prop in enumerate(plan.segments)],
    ]
    derived: list[pl.Expr] = [
        (pl.col(ACQ).is_not_null() & ctx.in_range(pl.col(ACQ)))
        .fill_null(value=False)
        .alias(ACQUIRED)
    ]
    for s in plan.stages:
        aggs.extend(engine(s.kind).unit_exprs(s, ctx))
        derived.extend(engine(s.kind).unit_columns(s, ctx))
    per_unit = events.group_by(USER).agg(aggs).cache()
    acquired = per_unit.select(USER, ACQ)
    q = QueryInput(frame=frame, events=events, acquired=acquired, units=per_unit, plan=plan)
    for s in plan.stages:
        table = engine(s.kind).unit_query(q, s)
        if table is not None:
            per_unit = per_unit.join(table, on=USER, how="left")
    units = per_unit.with_columns(derived)
    q = replace(q, units=units)
    out: dict[str, pl.LazyFrame] = {
        "journeys": journeys(frame, plan.funnel),
        "units": units,
    }
    for s in plan.stages:
        out.update(engine(s.kind).queries(q, s))
    return out
