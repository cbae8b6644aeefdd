"""Maximum-likelihood fitting shared by BG/NBD and Gamma-Gamma.

Both models are fitted the same way: the parameters are optimised on the log scale (so they stay
positive without bounds), with the closed-form log-likelihood and its analytic gradient, by
L-BFGS-B. Standard errors come from the observed information: the Hessian of the negative
log-likelihood at the optimum, by central differences of the analytic gradient, mapped back to
the natural scale with the delta method (se(θ) = θ · se(log θ)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cjkit.errors import InputError

Floats = NDArray[np.float64]
Index = NDArray[np.intp]
# (log-likelihood summed over units, gradient with respect to the natural parameters)
Objective = Callable[[Floats], tuple[float, Floats]]


def bins(index: Index, weights: Floats, size: int) -> Floats:
    """Return the summed ``weights`` per value of ``index`` (0 .. size − 1), as floats."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


@dataclass(frozen=True)
class Fit:
    """A fitted model: parameters and standard errors (natural scale), log-likelihood."""

    params: dict[str, float]
    stderr: dict[str, float | None]
    log_likelihood: float
    iterations: int
    converged: bool


def maximise(objective: Objective, names: tuple[str, ...], start: Floats, *, what: str) -> Fit:
    """Return the maximum-likelihood fit of ``objective`` from ``start`` (natural scale)."""
    from scipy.optimize import minimize

    def negative(log_params: Floats) -> tuple[float, Floats]:
        params = np.exp(log_params)
        value, grad = objective(params)
        # d(-LL)/d(log θ) = -θ · dLL/dθ
        return -value, -grad * params

    result = minimize(
        negative,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-9},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise InputError(f"the {what} fit did not converge: the data give no finite optimum")
    params = np.exp(result.x)
    stderr = _stderr(negative, result.x, params)
    return Fit(
        params=dict(zip(names, (float(p) for p in params), strict=True)),
        stderr=dict(zip(names, stderr, strict=True)),
        log_likelihood=float(-result.fun),
        iterations=int(result.nit),
        converged=bool(result.success),
    )


def _stderr(
    negative: Callable[[Floats], tuple[float, Floats]], at: Floats, params: Floats
) -> list[float | None]:
    """Return the standard errors from the numerical Hessian of the analytic gradient.

    Forward differences of the gradient: n + 1 evaluations instead of central differences'
    2n, for an error of order the step (1e-5 relative), far below the two digits a standard
    error is shown with; the likelihood evaluations are most of a fit's time.
    """
    n = len(at)
    hessian = np.empty((n, n))
    base = negative(at)[1]
    for i in range(n):  # a loop over the 3 or 4 parameters, not over units
        step = np.zeros(n)
        step[i] = 1e-5 * max(1.0, abs(at[i]))
        hessian[:, i] = (negative(at + step)[1] - base) / step[i]
    hessian = (hessian + hessian.T) / 2
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return [None] * n
    variances = np.diag(covariance)
    return [
        float(p * np.sqrt(v)) if np.isfinite(v) and v >= 0 else None
        for p, v in zip(params, variances, strict=True)
    ]
