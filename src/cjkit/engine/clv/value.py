"""CLV: discounted expected purchases times the expected order value.

This is lifetimes' ``GammaGammaFitter.customer_lifetime_value``, step for step: the horizon is
cut into months; a month is 30 days, 4.345 weeks or 1 month in the model's time unit (lifetimes'
constants); each month's expected purchases (the cumulative BG/NBD expectation at its end minus
at its start) are valued at the Gamma-Gamma expected order value and discounted at
``(1 + discount) ** month``. A horizon that is not a whole number of months ends with a partial
month. ``margin`` multiplies the result (1.0: CLV as revenue).
"""

from __future__ import annotations

import math

import numpy as np

from cjkit.engine.clv import bgnbd
from cjkit.engine.clv.fit import Floats

MONTH_IN_UNITS = {"day": 30.0, "week": 4.345, "month": 1.0}


def clv(
    params: dict[str, float],
    x: Floats,
    t_x: Floats,
    T: Floats,
    order_value: Floats,
    *,
    months: float,
    time_unit: str,
    discount: float,
    margin: float = 1.0,
) -> Floats:
    """Return each unit's CLV over ``months`` (monthly ``discount``, times ``margin``)."""
    factor = MONTH_IN_UNITS[time_unit]
    ends = [float(m) for m in range(1, math.floor(months) + 1)]
    if months > math.floor(months):
        ends.append(months)
    total = np.zeros_like(x, dtype=np.float64)
    previous = np.zeros_like(x, dtype=np.float64)
    for month in ends:  # a loop over the horizon's months, vectorised over units
        cumulative = bgnbd.expected_purchases(params, month * factor, x, t_x, T)
        total += order_value * (cumulative - previous) / (1 + discount) ** month
        previous = cumulative
    return total * margin
