"""The blocks of funnel insight that ``cjkit diagnose`` and ``--compare`` share with
``cjkit funnel``: the PostHog-style correlation, the funnel by segment against the rest, and
each step's change between two periods (docs/metrics.md, "Diagnose"). Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from cjkit.api.core import read_errors
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.insight import compare, correlation, segments
from cjkit.engine.insight.scan import Scanned
from cjkit.io import sources
from cjkit.report.core import FunnelReport, FunnelStep


def correlate(
    events: sources.Events,
    units: pl.DataFrame,
    spec: FunnelSpec,
    *,
    step: int,
    base_step: int,
    properties: Sequence[str] = (),
    with_events: bool = True,
    exclude: Sequence[str] = (),
) -> dict[str, Any]:
    """Return the ``correlation`` block: units reaching ``step`` against those at
    ``base_step`` or further who did not (a second read of the event names)."""
    split = correlation.groups(units, step, spec.window_s, base_step=base_step)
    skip = [m.name for s in spec.steps for m in s.matchers] + list(exclude)
    query = correlation.query(
        events.clean(),
        split,
        spec.unit,
        skip_events=skip,
        properties=properties,
        with_events=with_events,
    )
    with read_errors(events):
        counts = query.collect()
    success = int(split["success"].sum())
    block = correlation.results(counts, success, split.height - success)
    block["step"] = step
    return block


def segment_report(
    units: pl.DataFrame, spec: FunnelSpec, top: int | None, settings: dict[str, Any]
) -> tuple[FunnelReport, list[dict[str, Any] | None], segments.Folded | None]:
    """Return the funnel of ``units`` broken down by ``spec.by`` (folded to ``top``), each
    group's steps with ``vs_rest``; and the ``vs_rest`` cells, to correct together."""
    folded = None
    if top is not None and spec.by:
        units, folded = segments.fold_top(units, list(spec.by), top)
    report = funnel_engine.summarize(units, spec, settings)
    family: list[dict[str, Any] | None] = []
    if spec.by:
        cells = segments.vs_rest(report.steps, report.groups)
        groups = []
        for g, row in zip(report.groups, cells, strict=True):
            family.extend(row)
            steps = [
                replace(s, extra={"vs_rest": cell}) if s.index > 1 else s
                for s, cell in zip(g.steps, row, strict=True)
            ]
            groups.append(replace(g, steps=steps))
        report = replace(report, groups=groups)
    return report, family, folded


def _gaps(units: pl.DataFrame, k: int) -> np.ndarray[Any, Any]:
    gap = (pl.col(f"t_{k}") - pl.col(f"t_{k - 1}")) / 1_000_000
    kept = units.filter(~pl.col("excluded") & (pl.col("level") >= k))
    return kept.select(gap.alias("g"))["g"].to_numpy()


def _moments(values: np.ndarray[Any, Any]) -> tuple[float, float, int]:
    """Return (mean, variance with n − 1, n) of a sample (zeros when it is too small)."""
    n = len(values)
    if n < 2:
        return (float(values.mean()) if n else 0.0, 0.0, n)
    return float(values.mean()), float(values.var(ddof=1)), n


def step_changes(
    then: Sequence[FunnelStep], now: Sequence[FunnelStep], scanned: Scanned, n: int
) -> list[dict[str, Any]]:
    """Return, per step, its ``change`` block: counts, both rates (z/Fisher), and the median
    (Mood) and mean (Welch) time to convert, now against then."""
    out: list[dict[str, Any]] = []
    for k in range(1, n + 1):
        a, b = then[k - 1], now[k - 1]
        entry: dict[str, Any] = {
            "count": {"then": a.count, "now": b.count, "diff": b.count - a.count},
            "conversion_from_previous": None,
            "conversion_from_start": None,
            "median_time_to_convert_s": None,
            "mean_time_to_convert_s": None,
        }
        if k > 1:
            entry["conversion_from_previous"] = compare.rate_change(
                a.count, then[k - 2].count, b.count, now[k - 2].count
            )
            entry["conversion_from_start"] = compare.rate_change(
                a.count, then[0].count, b.count, now[0].count
            )
            gaps_then, gaps_now = _gaps(scanned.units["then"], k), _gaps(scanned.units["now"], k)
            entry["median_time_to_convert_s"] = compare.median_change(gaps_then, gaps_now)
            entry["mean_time_to_convert_s"] = compare.mean_change(
                _moments(gaps_then), _moments(gaps_now)
            )
        out.append(entry)
    return out
