"""A revenue stage's ``predict:`` section: customer value ahead, by ``cjkit clv``'s engine.

Phase 1 (per pass) keeps one row per (unit, currency, purchase day) with the day's total: the
stage's events in the range, merged per day as :func:`cjkit.engine.clv.summary.daily` merges
them. Passes cover disjoint units, so their rows are concatenated, and phase 2 sees every
unit's purchase days. Phase 2, over the population, per currency (amounts are never mixed):
the RFM summary (:func:`~cjkit.engine.clv.summary.summarise`, observation end = the last
purchase day, as ``cjkit clv`` defaults to), the BG/NBD and Gamma-Gamma fits
(:func:`~cjkit.engine.clv.predict.fit_models`), the per-unit predictions and CLV
(:func:`~cjkit.engine.clv.predict.predict`) and their totals
(:func:`~cjkit.engine.clv.tables.totals`): the same functions, in the same order, as
``cjkit clv``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import TIME, UNIT, USER
from cjkit.durations import TIME_UNIT_DAYS, parse_span
from cjkit.engine.clv import require_scipy
from cjkit.engine.clv import summary as summary_mod
from cjkit.engine.metrics.base import IN, StagePlan
from cjkit.errors import InputError
from cjkit.maps.schema import PredictSpec

if TYPE_CHECKING:
    from cjkit.engine.metrics.summary import View

CUR = "currency"
METRIC = "predicted_value"


def table(plan: StagePlan) -> str:
    """Return the name of the stage's purchase-day table."""
    return f"clvdays:{plan.id}"


def spec_of(plan: StagePlan) -> PredictSpec | None:
    """Return the stage's ``predict:`` section, if any."""
    return plan.stage.predict


def check(plan: StagePlan) -> None:
    """Raise the one-line scipy hint (exit 2) when the stage predicts and scipy is missing."""
    if spec_of(plan) is not None:
        require_scipy("the revenue stage's predict: section")


def query(events: pl.LazyFrame, plan: StagePlan, currency: pl.Expr, tz: str) -> pl.LazyFrame:
    """Return one row per (unit, currency, purchase day) of the stage's events in the range."""
    assert plan.amount is not None
    purchases = events.filter(pl.col(plan.flag) & pl.col(IN)).select(
        pl.col(USER).cast(pl.String).alias(UNIT),
        pl.col(TIME).alias(summary_mod.TS),
        pl.col(plan.amount).cast(pl.Float64).alias(summary_mod.AMOUNT),
        currency.alias(CUR),
    )
    # The events are cut to the range already: no observation end to cut at in phase 1.
    every_day = summary_mod.SummarySpec(tz=tz, observation_end=date.max)
    return summary_mod.daily(purchases, every_day, by=(CUR,))


def section(view: View, plan: StagePlan, keys: list[str | None]) -> tuple[Any, list[str]]:
    """Return the predicted-value metric (an object, or one per currency like the stage's money)
    and the fit's warnings."""
    spec = spec_of(plan)
    assert spec is not None
    days = view.frames[table(plan)].join(
        view.pop.select(pl.col(USER).cast(pl.String).alias(UNIT)), on=UNIT, how="semi"
    )
    out: dict[str | None, dict[str, Any]] = {}
    warnings: list[str] = []
    for cur in keys:
        mine = days.filter(pl.col(CUR).is_null() if cur is None else pl.col(CUR) == cur)
        result, more = _one(mine.drop(CUR), spec, view.ctx.tz)
        out[cur] = result
        warnings += [f"{cur}: {w}" if cur is not None else w for w in more]
    return (out[None] if keys == [None] else out), warnings


def _one(days: pl.DataFrame, spec: PredictSpec, tz: str) -> tuple[dict[str, Any], list[str]]:
    from cjkit.engine.clv import predict as predict_mod
    from cjkit.engine.clv import tables

    end = days["day"].max() if days.height else None
    if not isinstance(end, date):
        raise InputError(
            "predict: no purchases of the revenue stage in the population: nothing to fit"
        )
    summary_spec = summary_mod.SummarySpec(tz=tz, observation_end=end, time_unit=spec.time_unit)
    # Sorted by unit: the fit's and the totals' float sums follow the row order, which a
    # group_by (and passes over sets of units) leaves arbitrary.
    summary = summary_mod.summarise(days.lazy(), summary_spec).collect().sort(UNIT)
    models = predict_mod.fit_models(summary, spend=True)
    horizon_days, months = parse_span(spec.horizon)
    units = predict_mod.predict(
        summary,
        models,
        horizon=horizon_days / TIME_UNIT_DAYS[spec.time_unit],
        months=months,
        time_unit=spec.time_unit,
        discount=spec.discount,
        margin=spec.margin,
    )
    totals = tables.totals(units)
    n = int(totals["units"] or 0)
    expected, clv = totals["expected_purchases"], totals["clv"]
    result = {
        "model": spec.model,
        "horizon": spec.horizon,
        "time_unit": spec.time_unit,
        "discount": spec.discount,
        "margin": spec.margin,
        "observation_end": end.isoformat(),
        "params": {
            "bg_nbd": models.purchases.params,
            "gamma_gamma": models.spend.params if models.spend else {},
        },
        "units": n,
        "repeat_buyers": totals["repeat_buyers"],
        "expected_purchases": expected,
        "expected_purchases_per_unit": None if expected is None or not n else expected / n,
        "mean_prob_alive": totals["mean_prob_alive"],
        "clv": clv,
        "clv_per_unit": None if clv is None or not n else clv / n,
    }
    # Refunds are negative amounts in a revenue stage: not warned about here.
    return result, tables.fit_warnings(summary, models.spend_excluded, 0)
