"""Significance tests for rates, means and medians, on top of ``scipy.stats``.

The choices (docs/metrics.md, "Diagnose"):

* two rates: the pooled two-proportion z-test, two-sided, without continuity correction; when
  an expected cell count of the 2×2 table is below 5, Fisher's exact test (two-sided);
* many rates in one report: Benjamini–Hochberg (``scipy.stats.false_discovery_control``);
* means: Welch's t-test from the summary statistics (``ttest_ind_from_stats``);
* medians: Mood's median test (``scipy.stats.median_test``).

scipy is the ``stats`` extra: :func:`scipy_stats` turns its absence into a one-line error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cjkit.canonical import STATS_HINT
from cjkit.errors import UsageError

FISHER_BELOW = 5.0  # an expected cell count below this switches to Fisher's exact test


def scipy_stats() -> Any:
    """Return ``scipy.stats``; raise UsageError (exit 2) with the install hint when missing."""
    try:
        import scipy.stats as stats
    except ImportError:
        raise UsageError(
            "significance tests need scipy, which is not installed", hint=STATS_HINT
        ) from None
    return stats


@dataclass(frozen=True)
class Tested:
    """A test's two-sided p-value and its name (``z``, ``fisher``, ``welch``, ``mood``)."""

    p_value: float | None
    test: str


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> Tested:
    """Return the two-sided test of x1/n1 against x2/n2 (z, or Fisher for small cells).

    The p-value is None when either group is empty.
    """
    p, tests = two_proportions_many(np.array([x1]), np.array([n1]), np.array([x2]), np.array([n2]))
    value = float(p[0])
    return Tested(None if math.isnan(value) else value, str(tests[0]))


def two_proportions_many(
    x1: np.ndarray[Any, Any],
    n1: np.ndarray[Any, Any],
    x2: np.ndarray[Any, Any],
    n2: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Return (p-values, test names) of many 2×2 tables at once (NaN where a group is empty).

    The z-test is vectorised; Fisher runs only on the tables with a small expected cell.
    """
    stats = scipy_stats()
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    total = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / total
        expected = np.minimum.reduce(
            [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]
        )
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    p = 2 * stats.norm.sf(np.abs(z))
    empty = (n1 <= 0) | (n2 <= 0)
    fisher = ~empty & ~(expected >= FISHER_BELOW)
    for i in np.flatnonzero(fisher):
        table = [[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]
        p[i] = stats.fisher_exact(np.asarray(table, dtype=np.int64)).pvalue
    p = np.where(empty, np.nan, p)
    names = np.where(fisher, "fisher", "z")
    return p, names


def bh(p_values: Sequence[float | None]) -> list[float | None]:
    """Return Benjamini–Hochberg adjusted p-values (q-values); None stays None."""
    stats = scipy_stats()
    present = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    if not present:
        return out
    values = np.array([p_values[i] for i in present], dtype=np.float64)
    adjusted = stats.false_discovery_control(values, method="bh")
    for i, q in zip(present, adjusted, strict=True):
        out[i] = float(q)
    return out


def welch(mean1: float, var1: float, n1: int, mean2: float, var2: float, n2: int) -> Tested:
    """Return Welch's two-sided t-test of two means from their summary statistics."""
    if n1 < 2 or n2 < 2 or (var1 == 0 and var2 == 0):
        return Tested(None, "welch")
    stats = scipy_stats()
    result = stats.ttest_ind_from_stats(
        mean1, math.sqrt(var1), n1, mean2, math.sqrt(var2), n2, equal_var=False
    )
    value = float(result.pvalue)
    return Tested(None if math.isnan(value) else value, "welch")


def median_test(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> Tested:
    """Return Mood's two-sided median test of two samples (None when one is empty or all tie)."""
    if len(a) == 0 or len(b) == 0:
        return Tested(None, "mood")
    stats = scipy_stats()
    try:
        result = stats.median_test(a, b, ties="below")
    except ValueError:
        # Every value equals the grand median: nothing lies above it, so no contrast exists.
        return Tested(None, "mood")
    value = float(result.pvalue)
    return Tested(None if math.isnan(value) else value, "mood")
