"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; lifetimes' conventions).

A unit's x repeat purchases have mean value m; order values are gamma(p, ν) with ν gamma(q, γ)
across units (lifetimes names γ ``v``). It is fitted on repeat buyers with a positive mean, and
assumes spend is independent of purchase frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from cjkit.engine.clv.fit import Fit, Floats, bins, maximise

NAMES = ("p", "q", "v")


@dataclass(frozen=True)
class SpendStats:
    """The parameter-free parts of the likelihood, computed once per fit.

    The terms linear in the parameters reduce to sums over the rows computed here once
    (Σw·x·ln m, Σw·ln m); the special functions depend on x only and are evaluated per
    distinct x (``levels``, ``weight``: Σw per level). Only ln(x·m + v) and 1/(x·m + v) are
    evaluated per row, and enter through the sums Σw·(…) and Σw·x·(…).
    """

    levels: Floats
    weight: Floats
    total_weight: float
    sum_wx_log_m: float
    sum_w_log_m: float
    w: Floats
    wx: Floats
    xm: Floats

    @classmethod
    def of(cls, x: Floats, m: Floats, w: Floats) -> SpendStats:
        levels, weight = distinct_weights(x, w)
        log_m = np.log(m)
        wx = w * x
        return cls(
            levels=levels,
            weight=weight,
            total_weight=float(w.sum()),
            sum_wx_log_m=_sum(wx, log_m),
            sum_w_log_m=_sum(w, log_m),
            w=w,
            wx=wx,
            xm=x * m,
        )


def _sum(weights: Floats, values: Floats) -> float:
    """Return Σ weights·values by numpy's pairwise summation.

    Not a BLAS dot: its error grows with the row count and, over millions of rows, is larger
    than the optimiser's tolerance on the log-likelihood, which then stalls in line searches.
    """
    return float(np.sum(weights * values))


def distinct_weights(x: Floats, w: Floats) -> tuple[Floats, Floats]:
    """Return the distinct values of ``x`` and the summed weight of each.

    Purchase counts are small whole numbers, so one ``bincount`` does it without a sort.
    """
    whole = x.size and float(x.min()) >= 0 and float(x.max()) < 1e7 and np.all(x == np.floor(x))
    if whole:
        index = x.astype(np.intp)
        present = np.flatnonzero(np.bincount(index))
        return present.astype(np.float64), bins(index, w, 0)[present]
    levels, at = np.unique(x, return_inverse=True)
    return levels, bins(at, w, len(levels))


def log_likelihood(
    params: Floats, x: Floats, m: Floats, w: Floats, stats: SpendStats | None = None
) -> tuple[float, Floats]:
    """Return the summed log-likelihood (lifetimes' form) and its gradient in (p, q, v).

    Per row: ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(xm+v).
    ``stats`` is :meth:`SpendStats.of` of the same rows, passed in by the fit so that it is
    computed once.
    """
    p, q, v = (float(value) for value in params)
    s = SpendStats.of(x, m, w) if stats is None else stats
    xs, ws = s.levels, s.weight
    px = p * xs
    psi_pxq = digamma(px + q)
    psi_px = digamma(px)
    log_x = np.log(xs)
    log_xm_v = np.log(s.xm + v)
    inv_xm_v = 1.0 / (s.xm + v)
    # Σw·x·ln(xm+v), Σw·ln(xm+v), and the same for 1/(xm+v): the only per-row work.
    wx_log, w_log = _sum(s.wx, log_xm_v), _sum(s.w, log_xm_v)
    wx_inv, w_inv = _sum(s.wx, inv_xm_v), _sum(s.w, inv_xm_v)
    per_level = gammaln(px + q) - gammaln(px) + px * log_x
    total = (
        float(ws @ per_level)
        + s.total_weight * (q * np.log(v) - gammaln(q))
        + p * s.sum_wx_log_m
        - s.sum_w_log_m
        - p * wx_log
        - q * w_log
    )
    d_p = float(ws @ (xs * (psi_pxq - psi_px + log_x))) + s.sum_wx_log_m - wx_log
    d_q = float(ws @ psi_pxq) + s.total_weight * (np.log(v) - digamma(q)) - w_log
    d_v = s.total_weight * q / v - p * wx_inv - q * w_inv
    return total, np.array([d_p, d_q, d_v])


def fit(x: Floats, m: Floats, w: Floats) -> Fit:
    """Return the maximum-likelihood Gamma-Gamma fit on repeat buyers (x > 0, m > 0)."""
    start = np.array([1.0, 1.0, max(float(np.average(m, weights=w)), 1e-3)])
    stats = SpendStats.of(x, m, w)
    return maximise(lambda p: log_likelihood(p, x, m, w, stats), NAMES, start, what="Gamma-Gamma")


def expected_value(params: dict[str, float], x: Floats, m: Floats) -> Floats:
    """Return E[M | x, m], each unit's expected order value (the population mean when x = 0)."""
    p, q, v = (params[k] for k in NAMES)
    mean = np.where(x > 0, m, 0.0)
    return np.asarray(p * (v + x * mean) / (p * x + q - 1), dtype=np.float64)
