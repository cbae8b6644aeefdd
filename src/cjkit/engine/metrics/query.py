"""Phase 1 of ``cjkit metrics``: the lazy queries over the model's events.

The per-unit table (population flags, acquisition time, segment values and each stage kind's
per-unit facts), the funnel's journeys, the revenue tables and the retention cohorts, all to be
collected together with one ``pl.collect_all``. Definitions shared by every kind (population,
acquisition, segment) are in :mod:`.summary` and docs/metrics.md, "Stage metrics".
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from cjkit.engine import periods as per
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.funnel.journeys import journeys
from cjkit.engine.matchers import predicate
from cjkit.engine.metrics.base import ACQ, ACQUIRED, IN, POP, TIME, UNIT, Context
from cjkit.engine.metrics.kinds import acquisition, activation, referral, revenue, satisfaction
from cjkit.engine.metrics.plan import MetricsPlan, retention_spec


def _referrers(plan: MetricsPlan) -> list[str]:
    return [s.referrer for s in plan.of_kind("referral") if s.referrer]


def columns_needed(plan: MetricsPlan) -> list[str]:
    """Return the event columns the report reads."""
    cols = [*plan.funnel.columns(), *plan.segments, *_referrers(plan)]
    for s in plan.stages:
        for m in s.matchers:
            cols.extend(m.properties())
        cols.extend(
            c for c in (s.channel, s.amount, s.currency, s.order_id, s.score) if c is not None
        )
    return list(dict.fromkeys(cols))


def narrow(events: pl.LazyFrame, plan: MetricsPlan) -> pl.LazyFrame:
    """Return the events the report reads: its columns, a flag per stage, and only the rows
    that match a stage, an exclusion step or carry a referrer (all rows for a strict funnel,
    whose attempts any other event breaks)."""
    flags = [predicate(s.matchers).alias(s.flag) for s in plan.stages]
    frame = events.select(*[pl.col(c) for c in columns_needed(plan)], *flags)
    if plan.funnel.order == "strict":
        return frame
    keep = [pl.col(s.flag) for s in plan.stages]
    keep += [predicate(e.matchers) for e in plan.funnel.exclusions]
    keep += [pl.col(r).is_not_null() for r in _referrers(plan)]
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


_UNIT_EXPRS = {
    "acquisition": acquisition.unit_exprs,
    "referral": referral.unit_exprs,
    "satisfaction": satisfaction.unit_exprs,
}


def _adjacent(step: int) -> pl.Expr:
    """Return, on rows sorted by (unit, period), whether the row ``step`` back is the same
    unit's period ``p − step`` (step 1: active in the period before; −1: in the one after)."""
    same = pl.col(UNIT).shift(step) == pl.col(UNIT)
    return (same & (pl.col("p").shift(step) == pl.col("p") - step)).fill_null(value=False)


def _group_churn(
    events: pl.LazyFrame, spec: retention_engine.RetentionSpec, seg: str, bounds: pl.LazyFrame
) -> pl.LazyFrame:
    """Return per segment value: lost, at-start, return events and active units, summed over
    the complete periods of the retention engine's churn range (the same cut as its summary)."""
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
        .group_by(UNIT, p)
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col(seg).first())
        .sort(UNIT, "p")
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
    return (
        current.join(lost, on=[seg, "p"], how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col(counts).fill_null(0))
        .join(bounds.select("plo", "hi", "end"), how="cross")
        .filter(pl.col("p").is_between(pl.col("plo"), pl.col("hi")) & (pl.col("p") < pl.col("end")))
        .group_by(seg)
        .agg(
            pl.col("lost").sum(),
            (pl.col("lost") + pl.col("retained")).sum().alias("at_start"),
            pl.col("events").sum(),
            pl.col("active").sum(),
        )
    )


def _with_values(plan: MetricsPlan, frame: pl.LazyFrame) -> Context:
    """Return the plan's context with the sorted text values of the columns the kinds read
    with ``earliest_value`` (the acquisition channel, the referrer); ``frame`` is in memory."""
    columns = [
        c
        for s in plan.stages
        for c in ((s.channel,) if s.kind == "acquisition" else ())
        + ((s.referrer,) if s.kind == "referral" else ())
        if c
    ]
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
        if s.kind in _UNIT_EXPRS:
            aggs.extend(_UNIT_EXPRS[s.kind](s, ctx))
        if s.kind == "acquisition":
            derived.extend(acquisition.unit_columns(s, ctx))
        if s.kind == "referral":
            derived.extend(referral.unit_columns(s, ctx))
    per_unit = events.group_by(UNIT).agg(aggs).cache()
    acquired = per_unit.select(UNIT, ACQ)
    for s in plan.of_kind("activation"):
        per_unit = per_unit.join(activation.unit_query(events, s, acquired), on=UNIT, how="left")
    units = per_unit.with_columns(derived)
    out: dict[str, pl.LazyFrame] = {
        "journeys": journeys(frame, plan.funnel),
        "units": units,
    }
    for s in plan.of_kind("revenue"):
        out[f"money:{s.id}"] = revenue.money_query(events, s, acquired)
        out[f"ltv:{s.id}"] = revenue.ltv_query(events, s, ctx, acquired)
    for s in plan.of_kind("retention"):
        spec = retention_spec(plan, s)
        parts = retention_engine.retention_query(frame, spec)
        out.update({f"ret:{s.id}:{name}": lf for name, lf in parts.items()})
        for i in range(len(plan.segments)):
            seg = plan.seg(i)
            with_seg = frame.join(units.select(UNIT, seg), on=UNIT, how="left")
            by_parts = retention_engine.retention_query(with_seg, retention_spec(plan, s, seg))
            out.update({f"ret:{s.id}:by{i}:{name}": lf for name, lf in by_parts.items()})
            out[f"churn:{s.id}:by{i}"] = _group_churn(with_seg, spec, seg, parts["bounds"])
    return out
