"""``cjkit clv``: RFM summary, BG/NBD + Gamma-Gamma predictions, CLV, RFM segments, holdout.

One scan of the purchase events builds the per-(unit, day) table; everything after it (the
calibration summary of a holdout check included) is phase 2 on that small table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import polars as pl

from cjkit import durations
from cjkit.api.core import ReadOptions, collect_checked, load_model, read_events
from cjkit.canonical import EVENT, TIME, USER
from cjkit.engine.clv import require_scipy, rfm, tables
from cjkit.engine.clv import summary as summary_mod
from cjkit.engine.matchers import Matcher, parse_cli_step, parse_entries, predicate
from cjkit.engine.money import frame_money_sum
from cjkit.errors import InputError, UsageError, did_you_mean, one_of
from cjkit.io import sources
from cjkit.maps.schema import JourneyMap
from cjkit.report.clv import ClvReport, HoldoutCheck

TIME_UNITS = ("day", "week", "month")


@dataclass(frozen=True)
class ClvOptions:
    """What ``cjkit clv`` computes; ``None`` means: from the map, else the default."""

    read: ReadOptions = field(default_factory=ReadOptions)
    model: str | None = None
    purchase_event: str | None = None
    amount: str | None = None
    time_unit: str = "week"
    observation_end: str | None = None
    holdout: str | None = None
    horizon: str = "12mo"
    discount: float = 0.01
    margin: float = 1.0
    include_first: bool = False
    by: tuple[str, ...] = ()
    top: int = 10
    # Values of each --by breakdown to show, the rest as (other); None keeps every value
    # (tables default to cjkit.report.folding.TABLE_TOP).
    fold: int | None = None


@dataclass(frozen=True)
class ClvRun:
    """The report, and the per-unit table for ``--units``."""

    report: ClvReport
    units: pl.DataFrame


def parse_span(flag: str, text: str) -> tuple[float, float]:
    """Return (days, months) of a span such as ``90d``, ``26w``, ``12mo`` or ``1y``."""
    try:
        return durations.parse_span(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _purchases(options: ClvOptions, model: JourneyMap | None) -> tuple[list[Matcher], str | None]:
    if options.purchase_event:
        return parse_cli_step(options.purchase_event), options.amount
    stages = [s for s in model.stages if s.kind == "revenue"] if model is not None else []
    if not stages:
        raise UsageError(
            "clv needs the purchases: give the purchase event, or a map with a revenue stage",
            hint="e.g. --purchase-event purchase --amount amount",
        )
    return parse_entries(stages[0].events), options.amount or stages[0].amount


def _check_spec(options: ClvOptions) -> None:
    one_of("time unit", options.time_unit, TIME_UNITS)
    if not 0 <= options.discount < 1:
        raise UsageError(f"discount: expected a monthly rate in [0, 1), got {options.discount}")
    if not 0 < options.margin <= 1:
        raise UsageError(f"margin: expected a share in (0, 1], got {options.margin}")
    if options.top < 0:
        raise UsageError(f"top: expected 0 or more, got {options.top}")


def _date(flag: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag}: expected a date YYYY-MM-DD, got {text!r}") from None


def _scan(
    events: sources.Events, matchers: list[Matcher], amount: str | None, by: Sequence[str]
) -> pl.LazyFrame:
    """Return the purchase events: unit, ts, amount and the --by columns."""
    frame = events.clean().filter(predicate(matchers))
    if amount is not None:
        events.require([amount], "amount")
        dtype = events.columns[amount]
        if not dtype.is_numeric():
            raise InputError(f"amount: column '{amount}' holds {dtype}, expected numbers")
    events.require(list(by), "by", option=True)
    value = pl.col(amount).cast(pl.Float64) if amount else pl.lit(None, pl.Float64)
    return frame.select(
        pl.col(USER).cast(pl.String).alias("unit"),
        pl.col(TIME).alias("ts"),
        value.alias("amount"),
        *(pl.col(c) for c in by),
    )


def _rfm_inputs(summary: pl.LazyFrame, end: date) -> pl.LazyFrame:
    return summary.with_columns(
        (pl.lit(end) - pl.col("last_purchase")).dt.total_days().alias("days_since_last"),
        (pl.col("frequency") + 1).alias("purchase_days"),
        (pl.col("revenue") / (pl.col("frequency") + 1)).alias("mean_day_value"),
    )


def _holdout(
    days: pl.DataFrame, spec: summary_mod.SummarySpec, span_days: float
) -> tuple[HoldoutCheck, list[str]]:
    """Fit on the calibration period and compare predicted with actual repeat purchases."""
    from cjkit.engine.clv import bgnbd
    from cjkit.engine.clv import predict as predict_mod

    end = spec.observation_end
    cut = end - timedelta(days=round(span_days))
    calibration = replace(spec, observation_end=cut)
    cal_days = days.lazy().filter(pl.col("day") <= cut)
    cal = summary_mod.summarise(cal_days, calibration).collect()
    fit = predict_mod.fit_purchases(cal)
    actual = summary_mod.holdout_counts(days.lazy(), cut, end).collect()
    duration = (end - cut).days / summary_mod.UNIT_DAYS[spec.time_unit]
    x = cal["frequency"].cast(pl.Float64).to_numpy()
    t_x = cal["recency"].to_numpy()
    big_t = cal["T"].to_numpy()
    predicted = bgnbd.expected_purchases(fit.params, duration, x, t_x, big_t)
    check = (
        cal.select("unit", "frequency")
        .with_columns(pl.Series("predicted", predicted))
        .join(actual, on="unit", how="left")
        .with_columns(pl.col("actual").fill_null(0))
    )
    buckets, mae = tables.holdout_buckets(check)
    total_predicted = frame_money_sum(check["predicted"])
    total_actual = int(check["actual"].sum())
    warnings = []
    if total_actual and abs(total_predicted - total_actual) / total_actual > 0.2:
        warnings.append(
            f"poor fit in the holdout: {total_predicted:,.0f} repeat purchases predicted against "
            f"{total_actual:,} actual ({(total_predicted - total_actual) / total_actual:+.0%})"
        )
    result = HoldoutCheck(
        calibration_end=cut.isoformat(),
        observation_end=end.isoformat(),
        duration=duration,
        units=check.height,
        params=fit.params,
        predicted=total_predicted,
        actual=total_actual,
        mean_absolute_error=mae,
        buckets=buckets,
    )
    return result, warnings


def clv(paths: Sequence[str], options: ClvOptions) -> ClvRun:
    """Return the CLV report of ``paths`` and the per-unit table (see ``ClvReport``)."""
    _check_spec(options)
    require_scipy("clv")
    from cjkit.engine.clv import predict as predict_mod

    loaded = load_model(options.model) if options.model else None
    model = loaded.map if loaded is not None else None
    matchers, amount = _purchases(options, model)
    events = read_events(paths, options.read, model)
    by = tuple(options.by) or (tuple(model.segments) if model is not None else ())
    purchases = _scan(events, matchers, amount, by)
    horizon_days, months = parse_span("horizon", options.horizon)
    unit_days = summary_mod.UNIT_DAYS[options.time_unit]
    if horizon_days < unit_days:
        raise UsageError(f"horizon: {options.horizon} is shorter than one {options.time_unit}")
    end_expr = pl.col("ts").max().dt.convert_time_zone(events.tz).dt.date()
    probe = purchases.select(
        end_expr.alias("end"),
        pl.len().alias("events"),
        (pl.col("amount") <= 0).sum().alias("non_positive"),
    )
    stats = collect_checked(events, probe).row(0, named=True)
    if not stats["events"]:
        names = ", ".join(sorted({m.name for m in matchers}))
        seen = events.clean().select(pl.col(EVENT).unique()).collect()
        raise InputError(
            f"no purchase events ({names}) in the data",
            hint=did_you_mean(matchers[0].name, [str(v) for v in seen.to_series()]),
        )
    end = (
        _date("observation end", options.observation_end)
        if options.observation_end
        else stats["end"]
    )
    spec = summary_mod.SummarySpec(
        tz=events.tz,
        observation_end=end,
        time_unit=options.time_unit,
        include_first=options.include_first,
    )
    daily = summary_mod.daily(purchases.select("unit", "ts", "amount"), spec)
    # The --by values on each unit's first purchase come from the same scan as the day totals
    # (collect_all shares the common read of the purchase events).
    touch = purchases.group_by("unit").agg(pl.col(c).sort_by("ts", c).first() for c in by)
    days, first_touch = pl.collect_all([daily, touch]) if by else (daily.collect(), None)
    summary = _rfm_inputs(summary_mod.summarise(days.lazy(), spec), end).collect()
    models = predict_mod.fit_models(summary, spend=amount is not None)
    excluded = models.spend_excluded
    spend_units = models.spend_units
    units = predict_mod.predict(
        summary,
        models,
        horizon=horizon_days / unit_days,
        months=months,
        time_unit=options.time_unit,
        discount=options.discount,
        margin=options.margin,
    )
    units = rfm.scores(units.lazy()).collect().sort("unit")
    if first_touch is not None:
        units = units.join(first_touch, on="unit", how="left")
    warnings = tables.fit_warnings(summary, excluded, int(stats["non_positive"] or 0))
    holdout = None
    if options.holdout:
        span_days, _ = parse_span("holdout", options.holdout)
        holdout, more = _holdout(days, spec, span_days)
        warnings.extend(more)
    report = ClvReport(
        settings={
            "purchase_events": sorted({m.name for m in matchers}),
            "amount": amount,
            "time_unit": options.time_unit,
            "observation_end": end.isoformat(),
            "horizon": options.horizon,
            "horizon_units": horizon_days / unit_days,
            "discount": options.discount,
            "margin": options.margin,
            "include_first": options.include_first,
            "holdout": options.holdout,
            "tz": events.tz,
        },
        source={"files": events.files, "units": units.height, "purchases": stats["events"]},
        params={
            "bg_nbd": models.purchases.params,
            "gamma_gamma": models.spend.params if models.spend else {},
        },
        stderr={
            "bg_nbd": models.purchases.stderr,
            "gamma_gamma": models.spend.stderr if models.spend else {},
        },
        fit={
            "bg_nbd": {
                "log_likelihood": models.purchases.log_likelihood,
                "converged": models.purchases.converged,
                "units": units.height,
            },
            "gamma_gamma": None
            if models.spend is None
            else {
                "log_likelihood": models.spend.log_likelihood,
                "converged": models.spend.converged,
                "units": spend_units,
            },
        },
        totals=tables.totals(units),
        holdout=holdout,
        segments=tables.segments(units),
        breakdowns=[tables.breakdown(units, c, options.fold) for c in by],
        top=tables.top(units, options.top),
        warnings=warnings + events.warnings,
    )
    return ClvRun(report=report, units=units.select(UNIT_COLUMNS))


UNIT_COLUMNS = [
    "unit",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "expected_purchases",
    "prob_alive",
    "expected_avg_value",
    "clv",
    "rfm_segment",
]
