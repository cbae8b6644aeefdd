"""Two periods compared: which ranges, the change of each rate and median, and BH marking.

Ranges (docs/metrics.md, "Diagnose"):

* ``--compare previous`` with ``--since`` and ``--until``: the range of the same length just
  before ``--since``;
* ``--compare previous`` without a range: the last complete ``--period`` against the one
  before it; complete means every unit entering in it has had the whole funnel window by the
  data's last event (as a trend row's ``complete``);
* ``--compare A..B``: the range A..B against ``--since``/``--until`` (or, without them, the last
  complete period).

Both ranges are cut from one prepared journey table (``journeys.attempts``), so the events are
read once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cjkit.canonical import ONE_US as ONE_US  # re-exported: api.insight reads compare.ONE_US
from cjkit.canonical import Period, WeekStart
from cjkit.engine import periods as per
from cjkit.engine.insight.tests import Tested, bh, median_test, two_proportions, welch
from cjkit.errors import UsageError
from cjkit.timerange import TimeRange, parse_range


def resolve(
    mode: str,
    current: TimeRange,
    *,
    period: Period,
    tz: str,
    week_start: WeekStart,
    data_end: datetime | None,
    window_s: int = 0,
) -> tuple[TimeRange, TimeRange]:
    """Return (then, now): the compared range and the current one; raise UsageError."""
    has_range = current.since is not None and current.until is not None
    if (current.since is None) != (current.until is None):
        raise UsageError(
            "{compare} needs both {since} and {until}, or neither",
            options=("compare", "since", "until"),
        )
    now = current if has_range else _last_complete(period, tz, week_start, data_end, window_s)
    if mode == "previous":
        assert now.since is not None
        assert now.until is not None
        if has_range:
            length = now.until - now.since + ONE_US
            return TimeRange(now.since - length, now.since - ONE_US), now
        index = per.index_of(now.since, period, tz, week_start)
        return _period(index - 1, period, tz, week_start), now
    text = mode.strip()
    if ".." not in text:
        raise UsageError(
            f"compare: expected 'previous' or a range such as 2025-03-01..2025-03-31, got {mode!r}",
            option="compare",
        )
    a, _, b = text.partition("..")
    then = parse_range(a.strip() or None, b.strip() or None, tz)
    if then.since is None or then.until is None:
        raise UsageError(f"compare {mode}: give both ends of the range (A..B)", option="compare")
    return then, now


def _period(index: int, period: Period, tz: str, week_start: WeekStart) -> TimeRange:
    start = per.start_of(index, period, tz, week_start)
    end = per.start_of(index + 1, period, tz, week_start) - ONE_US
    return TimeRange(start, end)


def _last_complete(
    period: Period,
    tz: str,
    week_start: WeekStart,
    data_end: datetime | None,
    window_s: int,
) -> TimeRange:
    """Return the last period whose every entrant has had the whole window by the data's end
    (its last moment + window ≤ the last event): a later one would compare unfinished journeys."""
    if data_end is None:
        raise UsageError("compare previous: the data has no events to compare", option="compare")
    latest = data_end - timedelta(seconds=window_s)
    index = per.index_of(latest, period, tz, week_start)
    if per.start_of(index + 1, period, tz, week_start) - ONE_US > latest:
        index -= 1
    return _period(index, period, tz, week_start)


def rate_change(x_then: int, n_then: int, x_now: int, n_now: int) -> dict[str, Any] | None:
    """Return ``{then, now, diff, relative, p_value, test, significant}`` of x/n, or None when
    either period has no units to divide by."""
    if n_then == 0 or n_now == 0:
        return None
    then, now = x_then / n_then, x_now / n_now
    tested = two_proportions(x_now, n_now, x_then, n_then)
    return _change(then, now, tested)


def median_change(then: np.ndarray[Any, Any], now: np.ndarray[Any, Any]) -> dict[str, Any] | None:
    """Return the change of the median of two samples, with Mood's median test."""
    if len(then) == 0 or len(now) == 0:
        return None
    return _change(float(np.median(then)), float(np.median(now)), median_test(now, then))


def mean_change(
    then: tuple[float, float, int], now: tuple[float, float, int]
) -> dict[str, Any] | None:
    """Return the change of a mean from (mean, variance, n) of each period, by Welch's t-test."""
    if then[2] == 0 or now[2] == 0:
        return None
    return _change(then[0], now[0], welch(now[0], now[1], now[2], then[0], then[1], then[2]))


def _change(then: float, now: float, tested: Tested) -> dict[str, Any]:
    return {
        "then": then,
        "now": now,
        "diff": now - then,
        "relative": (now - then) / then if then else None,
        "p_value": tested.p_value,
        "test": tested.test,
        "significant": False,
    }


def mark_significant(entries: Iterable[dict[str, Any] | None], alpha: float) -> None:
    """Set ``significant`` on every entry after a Benjamini–Hochberg correction over all of
    them (one family per report): q ≤ alpha. Entries without a p-value stay not significant."""
    items = [e for e in entries if e is not None]
    qs = bh([e.get("p_value") for e in items])
    for entry, q in zip(items, qs, strict=True):
        entry["significant"] = q is not None and not math.isnan(q) and q <= alpha
