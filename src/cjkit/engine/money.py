"""Order-independent sums of money, so the same events give byte-identical reports.

A float sum depends on the order of its terms (``230710.54000000004`` against
``230710.53999999998``), and Polars' parallel group-bys don't fix that order. Each amount is
rounded to micro-units (1e-6 of the currency: finer than any currency's minor unit), summed
exactly as a Decimal, and the total turns back into a float once. Summing such totals again
is exact too while a double still resolves a micro-unit (totals under about 4 billion in a
currency): the cast back to six decimals gives the same decimal.
"""

from __future__ import annotations

import polars as pl

# 38 digits, 6 of them after the point: exact sums up to 10^32 units of a currency.
DECIMAL = pl.Decimal(38, 6)


def money_sum(expr: pl.Expr | str) -> pl.Expr:
    """Return the sum of ``expr`` as a Float64 that doesn't depend on the order of the rows."""
    column = pl.col(expr) if isinstance(expr, str) else expr
    # An exact Decimal sum in micro-units, turned into a float once. Not an Int64 sum divided
    # by 1e6: inside a group-by after a join, Polars 2.1 computes that division as a product
    # with the reciprocal, 1 ulp off (230710.53999999998 for 230,710,540,000 micro-units), and
    # whole units plus the fraction cancel for small negative totals. The cast from Decimal to
    # Float64 divides for real, so the result is the nearest double of the exact total.
    return column.cast(pl.Float64).cast(DECIMAL).sum().cast(pl.Float64)


def frame_money_sum(series: pl.Series) -> float:
    """Return the order-independent sum of an eager Series of amounts."""
    value = series.to_frame("x").select(money_sum("x")).item()
    return float(value) if value is not None else 0.0
