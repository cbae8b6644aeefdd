"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Each unit is summarised as (x, t_x, T): x repeat purchases, the last at t_x, observed for T
(lifetimes' frequency, recency and T). Purchases follow a Poisson process with a gamma(r, α)
rate across units; after each purchase a unit drops out with a beta(a, b) probability.

The log-likelihood is FHL (2005) eq. 6 in closed form, vectorised over units, with an optional
weight per row so that identical (x, t_x, T) rows can be counted once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from cjkit.engine.clv.fit import Fit, Floats, maximise

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class Summary:
    """The per-unit inputs of the model, as arrays of equal length."""

    x: Floats
    t_x: Floats
    T: Floats
    weight: Floats


def log_likelihood(params: Floats, data: Summary) -> tuple[float, Floats]:
    """Return the summed log-likelihood and its gradient in (r, α, a, b)."""
    r, alpha, a, b = params
    x, t_x, T, w = data.x, data.t_x, data.T, data.weight
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    # ln(a / (b + x - 1)) - (r + x) ln(α + t_x), defined for x > 0 only
    safe_bx = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(safe_bx) - (r + x) * np.log(alpha + t_x), -np.inf)
    tail = np.logaddexp(a3, a4)
    total = float(np.sum(w * (a1 + a2 + tail)))
    # Softmax weights of the two terms inside the log.
    w3 = np.exp(a3 - tail)
    w4 = np.where(repeat, np.exp(a4 - tail), 0.0)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha)
    d_r += -w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / safe_bx
    grad = np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)])
    return total, grad


def fit(data: Summary) -> Fit:
    """Return the maximum-likelihood BG/NBD fit (natural-scale parameters and errors)."""
    start = np.array([1.0, max(float(np.average(data.T, weights=data.weight)), 1.0), 1.0, 1.0])
    return maximise(lambda p: log_likelihood(p, data), NAMES, start, what="BG/NBD")


def _odds_dead(params: dict[str, float], x: Floats, t_x: Floats, T: Floats) -> Floats:
    """Return δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x), the odds that a unit has dropped out."""
    r, alpha, a, b = (params[k] for k in NAMES)
    repeat = x > 0
    safe_bx = np.where(repeat, b + x - 1, 1.0)
    log_odds = np.log(a) - np.log(safe_bx) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, np.exp(log_odds), 0.0)


def prob_alive(params: dict[str, float], x: Floats, t_x: Floats, T: Floats) -> Floats:
    """Return P(alive | x, t_x, T) for each unit (FHL 2005, eq. 11)."""
    return 1.0 / (1.0 + _odds_dead(params, x, t_x, T))


def expected_purchases(
    params: dict[str, float], horizon: float, x: Floats, t_x: Floats, T: Floats
) -> Floats:
    """Return E[purchases in (T, T + horizon] | x, t_x, T] for each unit (FHL 2005, eq. 10)."""
    r, alpha, a, b = (params[k] for k in NAMES)
    z = horizon / (alpha + T + horizon)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1)
    growth = 1 - ((alpha + T) / (alpha + T + horizon)) ** (r + x) * hyp
    return np.asarray(head * growth / (1.0 + _odds_dead(params, x, t_x, T)), dtype=np.float64)


def expected_purchases_new(params: dict[str, float], t: Floats) -> Floats:
    """Return E[X(t)], the expected purchases of a new unit in its first t (FHL 2005, eq. 7)."""
    r, alpha, a, b = (params[k] for k in NAMES)
    z = t / (alpha + t)
    value = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
    return np.asarray(value, dtype=np.float64)
