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

from cjkit.engine.clv.fit import Fit, Floats, Index, bins, maximise

NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class Summary:
    """The per-unit inputs of the model, as arrays of equal length."""

    x: Floats
    t_x: Floats
    T: Floats
    weight: Floats

    @cached_property
    def prepared(self) -> Prepared:
        """Return what the likelihood needs that does not depend on the parameters."""
        return Prepared.of(self)


@dataclass(frozen=True)
class Prepared:
    """The parameter-free parts of the likelihood, computed once per fit.

    Every term of the log-likelihood but one depends on a row through x, t_x or T alone, and
    each takes few distinct values (purchase days): those terms are evaluated once per distinct
    value and summed with the weights of its rows (``*_weight``: Σw, ``*_wx``: Σw·x). Only the
    log of the two-term sum in eq. 6 is genuinely per row, and only for repeat buyers (x > 0):
    for x = 0 the second term is absent.
    """

    total_weight: float
    x_levels: Floats  # distinct x
    x_weight: Floats  # Σw per distinct x
    T_levels: Floats  # distinct T
    T_weight: Floats  # Σw per distinct T
    T_wx: Floats  # Σw·x per distinct T
    t_levels: Floats  # distinct t_x
    rx_levels: Floats  # distinct x among repeat buyers (all ≥ 1)
    # Repeat buyers, one entry per row: x, weight and indices into the levels above.
    rx: Floats
    rw: Floats
    r_at_x: Index
    r_at_T: Index
    r_at_t: Index

    @classmethod
    def of(cls, data: Summary) -> Prepared:
        x_levels, at_x = np.unique(data.x, return_inverse=True)
        T_levels, at_T = np.unique(data.T, return_inverse=True)
        t_levels, at_t = np.unique(data.t_x, return_inverse=True)
        # The rows in one order, by (x, T, t_x), whatever order they came in: every sum then
        # adds up in the same order, so the fit is the same to the last bit (run to run, and
        # over passes of disjoint units).
        key = (at_x.astype(np.int64) * len(T_levels) + at_T) * len(t_levels) + at_t
        order = np.argsort(key, kind="stable")
        x, w, at_x, at_T, at_t = (
            data.x[order],
            data.weight[order],
            at_x[order],
            at_T[order],
            at_t[order],
        )
        repeat = x > 0
        # x ≥ 0, so the repeat buyers' distinct x are the distinct x without a leading 0.
        skip = int(x_levels.size > 0 and x_levels[0] == 0)
        return cls(
            total_weight=float(np.sum(w)),
            x_levels=x_levels,
            x_weight=bins(at_x, w, len(x_levels)),
            T_levels=T_levels,
            T_weight=bins(at_T, w, len(T_levels)),
            T_wx=bins(at_T, w * x, len(T_levels)),
            t_levels=t_levels,
            rx_levels=x_levels[skip:],
            rx=x[repeat],
            rw=w[repeat],
            r_at_x=at_x[repeat] - skip,
            r_at_T=at_T[repeat],
            r_at_t=at_t[repeat],
        )


def log_likelihood(params: Floats, data: Summary) -> tuple[float, Floats]:
    """Return the summed log-likelihood and its gradient in (r, α, a, b).

    FHL (2005) eq. 6 per unit is A1 + A2 + log(e^A3 + e^A4) with A1 = ln Γ(r+x) − ln Γ(r) +
    r ln α, A2 = ln B(a, b+x) − ln B(a, b), A3 = −(r+x) ln(α+T) and, for x > 0 only,
    A4 = ln(a/(b+x−1)) − (r+x) ln(α+t_x). Written as A1 + A2 + A3 + softplus(A4 − A3), all but
    the softplus are sums over distinct x or T (see :class:`Prepared`).
    """
    r, alpha, a, b = (float(v) for v in params)
    pre = data.prepared
    xs, xw = pre.x_levels, pre.x_weight
    # Per distinct x (A1 without r ln α, A2) and per distinct T (A3), with their derivatives.
    lg = gammaln(r + xs) - gammaln(r)
    lb = betaln(a, b + xs) - betaln(a, b)
    log_T = np.log(alpha + pre.T_levels)
    inv_T = 1.0 / (alpha + pre.T_levels)
    r_wx_T = r * pre.T_weight + pre.T_wx  # Σw·(r+x) per distinct T
    total = float(xw @ (lg + lb)) + pre.total_weight * r * np.log(alpha) - float(r_wx_T @ log_T)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + xs)
    d_r = float(xw @ (digamma(r + xs) - digamma(r))) + pre.total_weight * np.log(alpha)
    d_r -= float(pre.T_weight @ log_T)
    d_alpha = pre.total_weight * r / alpha - float(r_wx_T @ inv_T)
    d_a = float(xw @ (psi_ab - psi_abx))
    d_b = float(xw @ (psi_ab + digamma(b + xs) - digamma(b) - psi_abx))
    if len(pre.rx):
        # Repeat buyers: softplus(A4 − A3), and its weight w4 = sigmoid(A4 − A3) in the gradient.
        log_t = np.log(alpha + pre.t_levels)
        inv_t = 1.0 / (alpha + pre.t_levels)
        bx = b + pre.rx_levels - 1
        gap = log_T[pre.r_at_T] - log_t[pre.r_at_t]  # ln((α+T)/(α+t_x)) ≥ 0
        rx = r + pre.rx
        z = (np.log(a) - np.log(bx))[pre.r_at_x] + rx * gap
        e = np.exp(-np.abs(z))
        softplus = np.maximum(z, 0.0) + np.log1p(e)
        w4 = np.where(z >= 0, 1.0, e) / (1.0 + e)
        rw = pre.rw
        q = rw * w4
        # Per-row sums by numpy's pairwise summation, not a BLAS dot (see gamma_gamma._sum).
        total += float(np.sum(rw * softplus))
        d_r += float(np.sum(q * gap))
        d_alpha += float(np.sum(q * rx * (inv_T[pre.r_at_T] - inv_t[pre.r_at_t])))
        d_a += float(q.sum()) / a
        d_b -= float(bins(pre.r_at_x, q, len(bx)) @ (1.0 / bx))
    return total, np.array([d_r, d_alpha, d_a, d_b])


def fit(data: Summary) -> Fit:
    """Return the maximum-likelihood BG/NBD fit (natural-scale parameters and errors)."""
    # The start from the prepared (sorted) levels, not the rows in the order they came: on a
    # flat likelihood (no unit seems to drop out, a and b run off to infinity) a last-bit
    # difference in the start moved the optimum along the ridge from run to run.
    pre = data.prepared
    mean_T = float(np.sum(pre.T_levels * pre.T_weight)) / max(pre.total_weight, 1.0)
    start = np.array([1.0, max(mean_T, 1.0), 1.0, 1.0])
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
