"""PostHog's funnel correlation analysis: which events (or property values) go with success.

The units that entered the funnel split into *success* (reached the target step) and
*failure* (reached the step before it and went no further). For each event name, or each
``prop::value``, ``success_count`` and ``failure_count`` are the units of each group that have
it between their step-1 event and their conversion (successes) or the end of their window
(failures). The funnel's own step events are left out, as are ``--correlate-exclude`` events.

``odds_ratio = ((s + 1) / (S − s + 1)) / ((f + 1) / (F − f + 1))`` (a prior of 1 in every
cell), where S and F are the group totals; ``correlation_type`` is ``success`` above 1, else
``failure``. Results list the successes by odds ratio, descending, then the failures by odds
ratio, ascending (PostHog ``test_funnel_correlation.py``:
``test_basic_funnel_correlation_with_events`` gives 11 and 1/11;
``test_action_events_are_excluded_from_correlations`` gives 3). Names held by fewer than
``min(25, 2% of all units)`` units are dropped, as PostHog's ``MIN_PERSON_COUNT`` and
``MIN_PERSON_PERCENTAGE`` do. ``p_value`` tests s/S against f/F with
:func:`tests.two_proportions_many`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from cjkit.engine.insight.tests import two_proportions_many

SEPARATOR = "::"
MIN_UNITS = 25  # PostHog's MIN_PERSON_COUNT
MIN_SHARE = 0.02  # PostHog's MIN_PERSON_PERCENTAGE


def groups(units: pl.DataFrame, step: int, window_s: int, *, base_step: int = 1) -> pl.DataFrame:
    """Return ``unit, success, lo, hi``: the units at ``base_step`` or further, whether they
    reached ``step``, and the µs interval their events are counted in. PostHog's analysis is
    ``base_step = 1, step = n``; diagnose asks about one step (``base_step = step − 1``)."""
    window = window_s * 1_000_000
    at = units.filter(~pl.col("excluded") & (pl.col("level") >= base_step))
    success = pl.col("level") >= step
    return at.select(
        "unit",
        success.alias("success"),
        pl.col("t_1").alias("lo"),
        pl.when(success).then(pl.col(f"t_{step}")).otherwise(pl.col("t_1") + window).alias("hi"),
    )


def query(
    events: pl.LazyFrame,
    split: pl.DataFrame,
    unit: str,
    *,
    skip_events: Sequence[str],
    properties: Sequence[str] = (),
    with_events: bool = True,
) -> pl.LazyFrame:
    """Return the lazy ``name, success_count, failure_count`` table over ``events``."""
    window = (
        events.select(
            pl.col(unit).alias("unit"),
            pl.col("event"),
            pl.col("timestamp").dt.epoch("us").alias("_t"),
            *[pl.col(p) for p in properties],
        )
        .join(split.lazy(), on="unit", how="inner")
        .filter((pl.col("_t") >= pl.col("lo")) & (pl.col("_t") <= pl.col("hi")))
    )
    names: list[pl.LazyFrame] = []
    if with_events:
        names.append(
            window.filter(~pl.col("event").is_in(list(skip_events))).select(
                "unit", "success", pl.col("event").cast(pl.String).alias("name")
            )
        )
    for prop in properties:
        names.append(
            window.filter(pl.col(prop).is_not_null()).select(
                "unit",
                "success",
                (pl.lit(prop + SEPARATOR) + pl.col(prop).cast(pl.String)).alias("name"),
            )
        )
    if not names:
        return pl.LazyFrame(
            schema={"name": pl.String, "success_count": pl.UInt32, "failure_count": pl.UInt32}
        )
    return (
        pl.concat(names)
        .unique(["unit", "name"])
        .group_by("name")
        .agg(
            pl.col("success").sum().alias("success_count"),
            (~pl.col("success")).sum().alias("failure_count"),
        )
    )


def results(counts: pl.DataFrame, success_total: int, failure_total: int) -> dict[str, Any]:
    """Return the ``correlation`` JSON block from the per-name counts, in PostHog's order."""
    if success_total == 0 or failure_total == 0:
        # With one group empty every odds ratio is the prior's artefact: nothing to report.
        counts = counts.clear()
    # PostHog drops names too rare to say anything: fewer units than MIN_PERSON_COUNT and
    # than MIN_PERSON_PERCENTAGE of everyone (test_discarding_insignificant_events).
    floor = min(MIN_UNITS, MIN_SHARE * (success_total + failure_total))
    counts = counts.filter(pl.col("success_count") + pl.col("failure_count") >= floor)
    s = counts["success_count"].to_numpy().astype(np.float64)
    f = counts["failure_count"].to_numpy().astype(np.float64)
    odds = ((s + 1) / (success_total - s + 1)) / ((f + 1) / (failure_total - f + 1))
    n = len(s)
    p, _ = (
        two_proportions_many(s, np.full(n, success_total), f, np.full(n, failure_total))
        if n
        else (np.array([]), np.array([]))
    )
    rows = [
        {
            "name": name,
            "success_count": int(s[i]),
            "failure_count": int(f[i]),
            "odds_ratio": float(odds[i]),
            "correlation_type": "success" if odds[i] > 1 else "failure",
            "p_value": None if np.isnan(p[i]) else float(p[i]),
        }
        for i, name in enumerate(counts["name"].to_list())
    ]
    wins = sorted(
        (r for r in rows if r["correlation_type"] == "success"),
        key=lambda r: (-r["odds_ratio"], r["name"]),
    )
    losses = sorted(
        (r for r in rows if r["correlation_type"] == "failure"),
        key=lambda r: (r["odds_ratio"], r["name"]),
    )
    return {
        "success_total": success_total,
        "failure_total": failure_total,
        "results": wins + losses,
    }
