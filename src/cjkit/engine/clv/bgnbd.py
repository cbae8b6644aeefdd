"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Each unit is summarised as (x, t_x, T): x repeat purchases, the last at t_x, observed for T
(lifetimes' frequency, recency and T). Purchases follow a Poisson process with a gamma(r, α)
rate across units; after each purchase a unit drops out with a beta(a, b) probability.

The log-likelihood is FHL (2005) eq. 6 in closed form, vectorised over units, with an optional
weight per row so that identical (x, t_x, T) rows can be counted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from cjkit.engine.clv.fit import Fit, Floats, Index, maximise

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class Summary:
    """The per-unit inputs of the model, as arrays of equal length."""

    x: Floats
    t_x: Floats
    T: Floats
    weight: Floats

    @cached_property
    def x_levels(self) -> tuple[Floats, Index]:
        """Return the distinct x and each row's index into them.

        The special functions (log-gamma, digamma, log-beta) depend on the parameters and on x
        only, and x takes few distinct values, so they are evaluated once per distinct x and
        gathered: the fit's cost per iteration is then a few array operations per row.
        """
        levels, index = np.unique(self.x, return_inverse=True)
        return levels, index


def log_likelihood(params: Floats, data: Summary) -> tuple[float, Floats]:
    """Return the summed log-likelihood and its gradient in (r, α, a, b)."""
    r, alpha, a, b = params
    x, t_x, T, w = data.x, data.t_x, data.T, data.weight
    levels, at = data.x_levels
    repeat = x > 0
    log_T = np.log(alpha + T)
    log_t = np.log(alpha + t_x)
    a1 = (gammaln(r + levels) - gammaln(r))[at] + r * np.log(alpha)
    a2 = (betaln(a, b + levels) - betaln(a, b))[at]
    a3 = -(r + x) * log_T
    # ln(a / (b + x - 1)) - (r + x) ln(α + t_x), defined for x > 0 only
    safe_bx = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(safe_bx) - (r + x) * log_t, -np.inf)
    tail = np.logaddexp(a3, a4)
    total = float(w @ (a1 + a2 + tail))
    # Softmax weights of the two terms inside the log (w3 + w4 = 1).
    w3 = np.exp(a3 - tail)
    w4 = 1.0 - w3
    psi_abx = digamma(a + b + levels)
    d_r = (digamma(r + levels) - digamma(r))[at] + np.log(alpha) - w3 * log_T - w4 * log_t
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_a = (digamma(a + b) - psi_abx)[at] + w4 / a
    d_b = (digamma(a + b) + digamma(b + levels) - digamma(b) - psi_abx)[at] - w4 / safe_bx
    grad = np.array([w @ d for d in (d_r, d_alpha, d_a, d_b)])
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
