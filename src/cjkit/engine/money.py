"""Order-independent sums of money, so the same events give byte-identical reports.

A float sum depends on the order of its terms (``230710.54000000004`` against
``230710.53999999998``), and Polars' parallel group-bys don't fix that order. Each amount is
rounded to integer micro-units (1e-6 of the currency: finer than any currency's minor unit),
the integers are summed exactly, and the total turns back into a float once. Summing such
totals again is exact too, since ``round(x * 1e6)`` gives back the same integer. Exact for
totals below 2**63 micro-units (9.2 trillion in a currency).
"""

from __future__ import annotations

import polars as pl

MICROS = 1_000_000


def micros(expr: pl.Expr) -> pl.Expr:
    """Return ``expr`` (an amount) as integer micro-units (Int64)."""
    return (expr.cast(pl.Float64) * MICROS).round().cast(pl.Int64)


def money_sum(expr: pl.Expr | str) -> pl.Expr:
    """Return the sum of ``expr`` as a Float64 that doesn't depend on the order of the rows."""
    column = pl.col(expr) if isinstance(expr, str) else expr
    total = micros(column).sum()
    # Whole units plus the fraction, not ``total / MICROS``: inside some group-by aggregations
    # (after a join, Polars 2.1) a division by a constant comes out 1 ulp off the correctly
    # rounded quotient (230710.53999999998 for 230,710,540,000 micro-units). The whole part is
    # exact, so the sum rounds once, to the nearest double of the total: 230710.54.
    whole = (total // MICROS).cast(pl.Float64)
    return whole + (total % MICROS).cast(pl.Float64) / MICROS


def frame_money_sum(series: pl.Series) -> float:
    """Return the order-independent sum of an eager Series of amounts."""
    value = series.to_frame("x").select(money_sum("x")).item()
    return float(value) if value is not None else 0.0
