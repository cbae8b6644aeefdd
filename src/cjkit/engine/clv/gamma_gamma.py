"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; lifetimes' conventions).

A unit's x repeat purchases have mean value m; order values are gamma(p, ν) with ν gamma(q, γ)
across units (lifetimes names γ ``v``). It is fitted on repeat buyers with a positive mean, and
assumes spend is independent of purchase frequency.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from cjkit.engine.clv.fit import Fit, Floats, Index, maximise

NAMES = ("p", "q", "v")


def log_likelihood(
    params: Floats, x: Floats, m: Floats, w: Floats, levels: tuple[Floats, Index] | None = None
) -> tuple[float, Floats]:
    """Return the summed log-likelihood (lifetimes' form) and its gradient in (p, q, v).

    ``levels`` is ``np.unique(x, return_inverse=True)``, passed in by the fit so that it is
    computed once: the special functions depend on x only, and are evaluated per distinct x.
    """
    p, q, v = params
    levels_x, at = np.unique(x, return_inverse=True) if levels is None else levels
    lg = (gammaln(p * levels_x + q) - gammaln(p * levels_x))[at]
    psi_pxq = digamma(p * levels_x + q)[at]
    psi_px = digamma(p * levels_x)[at]
    px = p * x
    xm_v = x * m + v
    log_m, log_x, log_xm_v = np.log(m), np.log(x), np.log(xm_v)
    values = lg - gammaln(q) + q * np.log(v) + (px - 1) * log_m + px * log_x - (px + q) * log_xm_v
    d_p = x * (psi_pxq - psi_px + log_m + log_x - log_xm_v)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_xm_v
    d_v = q / v - (px + q) / xm_v
    grad = np.array([w @ d for d in (d_p, d_q, d_v)])
    return float(w @ values), grad


def fit(x: Floats, m: Floats, w: Floats) -> Fit:
    """Return the maximum-likelihood Gamma-Gamma fit on repeat buyers (x > 0, m > 0)."""
    start = np.array([1.0, 1.0, max(float(np.average(m, weights=w)), 1e-3)])
    levels = np.unique(x, return_inverse=True)
    return maximise(lambda p: log_likelihood(p, x, m, w, levels), NAMES, start, what="Gamma-Gamma")


def expected_value(params: dict[str, float], x: Floats, m: Floats) -> Floats:
    """Return E[M | x, m], each unit's expected order value (the population mean when x = 0)."""
    p, q, v = (params[k] for k in NAMES)
    mean = np.where(x > 0, m, 0.0)
    return np.asarray(p * (v + x * mean) / (p * x + q - 1), dtype=np.float64)
