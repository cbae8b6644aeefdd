"""Phase 2 of CLV: fit the models on the per-unit summary and predict for every unit.

BG/NBD rows with the same (x, t_x, T) are fitted once with a weight, which is exact (the
likelihood is a sum over units) and makes the fit cost depend on the distinct summaries, not on
the units. Gamma-Gamma is fitted on the rows as they are: its mean values are almost all
distinct, and its per-row work is two sums (see ``gamma_gamma.SpendStats``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from cjkit.engine.clv import bgnbd, gamma_gamma, value
from cjkit.engine.clv.fit import Fit, Floats
from cjkit.errors import InputError


@dataclass(frozen=True)
class Models:
    """The fitted models; ``spend`` is None when there are no amounts or no repeat buyers."""

    purchases: Fit
    spend: Fit | None
    spend_units: int
    spend_excluded: int


def _arrays(summary: pl.DataFrame) -> tuple[Floats, Floats, Floats]:
    return (
        summary["frequency"].cast(pl.Float64).to_numpy(),
        summary["recency"].cast(pl.Float64).to_numpy(),
        summary["T"].cast(pl.Float64).to_numpy(),
    )


def fit_purchases(summary: pl.DataFrame) -> Fit:
    """Return the BG/NBD fit of ``summary``; raise InputError when no unit ever repeats."""
    if summary.height == 0:
        raise InputError("no purchases before the observation end: nothing to fit")
    if not (summary["frequency"] > 0).any():
        raise InputError(
            f"every one of the {summary.height:,} units bought on one day only: BG/NBD needs "
            "repeat purchases to fit (choose another purchase event or a later observation end)"
        )
    # Distinct summaries, counted: repeat buyers by (x, t_x, T); the others by T alone (their
    # t_x is 0). Two group-bys over one lazy frame, pushed-down filters, run together.
    frame = summary.lazy().select("frequency", "recency", "T")
    repeat = pl.col("frequency") > 0
    repeaters = frame.filter(repeat).group_by("frequency", "recency", "T").agg(pl.len().alias("w"))
    once = (
        frame.filter(~repeat)
        .group_by("T")
        .agg(pl.len().alias("w"))
        .select(pl.lit(0, pl.Int64).alias("frequency"), pl.lit(0.0).alias("recency"), "T", "w")
    )
    parts = pl.collect_all([repeaters, once])
    distinct = pl.concat(
        [
            part.with_columns(
                pl.col("frequency").cast(pl.Int64), pl.col("recency", "T").cast(pl.Float64)
            )
            for part in parts
        ]
    )
    x, t_x, T = _arrays(distinct)
    return bgnbd.fit(
        bgnbd.Summary(x=x, t_x=t_x, T=T, weight=distinct["w"].cast(pl.Float64).to_numpy())
    )


def fit_spend(summary: pl.DataFrame) -> tuple[Fit | None, int, int]:
    """Return the Gamma-Gamma fit on repeat buyers with a positive mean, the units it used,
    and the repeat buyers left out for a zero or negative mean."""
    repeat = summary.filter(pl.col("frequency") > 0)
    positive = repeat.filter(pl.col("monetary_value") > 0)
    excluded = repeat.height - positive.height
    if positive.height < 3:
        return None, positive.height, excluded
    # No group-by: the likelihood's per-row work is two dot products (see SpendStats), which
    # is cheaper than grouping rows whose mean values are almost all distinct.
    # Sorted by (x, m), whatever the order of the units, so that every sum adds up in one
    # order and the fit is the same to the last bit (complex numbers sort by real part, then
    # imaginary part; both hold the float64 values exactly).
    pairs = np.sort(
        positive["frequency"].cast(pl.Float64).to_numpy()
        + 1j * positive["monetary_value"].cast(pl.Float64).to_numpy()
    )
    fit = gamma_gamma.fit(
        np.ascontiguousarray(pairs.real), np.ascontiguousarray(pairs.imag), np.ones(len(pairs))
    )
    return fit, positive.height, excluded


def fit_models(summary: pl.DataFrame, *, spend: bool) -> Models:
    """Return BG/NBD on ``summary`` and, with ``spend`` (amounts given), Gamma-Gamma."""
    spend_fit, spend_units, excluded = fit_spend(summary) if spend else (None, 0, 0)
    return Models(
        purchases=fit_purchases(summary),
        spend=spend_fit,
        spend_units=spend_units,
        spend_excluded=excluded,
    )


def predict(
    summary: pl.DataFrame,
    models: Models,
    *,
    horizon: float,
    months: float,
    time_unit: str,
    discount: float,
    margin: float,
) -> pl.DataFrame:
    """Return ``summary`` with expected_purchases, prob_alive, expected_avg_value and clv."""
    x, t_x, T = _arrays(summary)
    params = models.purchases.params
    columns: dict[str, Floats] = {
        "expected_purchases": bgnbd.expected_purchases(params, horizon, x, t_x, T),
        "prob_alive": bgnbd.prob_alive(params, x, t_x, T),
    }
    if models.spend is not None:
        m = summary["monetary_value"].cast(pl.Float64).to_numpy()
        order_value = gamma_gamma.expected_value(models.spend.params, x, m)
        columns["expected_avg_value"] = order_value
        columns["clv"] = value.clv(
            params,
            x,
            t_x,
            T,
            order_value,
            months=months,
            time_unit=time_unit,
            discount=discount,
            margin=margin,
        )
    else:
        nan = np.full(len(x), np.nan)
        columns["expected_avg_value"] = nan
        columns["clv"] = nan
    return summary.with_columns(
        pl.Series(name, values).fill_nan(None) for name, values in columns.items()
    )
