"""``cjkit metrics --compare``: each stage's funnel numbers against the compared period.

The metrics scan collects, beside its own table, the funnel's step events (one read of the
file, ``api.metrics.metrics_frames``); both periods' journey tables are cut from those in
memory (``engine.insight.scan``). Each stage gets the funnel ``change`` block of
``cjkit funnel --compare``: counts, ``conversion_from_previous`` and ``conversion_from_start``
(z or Fisher), median (Mood) and mean (Welch) time to convert, BH-corrected together. The kind
metrics (activation rate, ARPU, …) are not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

import polars as pl

from cjkit.api.core import FunnelOptions, funnel_spec
from cjkit.api.insight import step_changes
from cjkit.api.metrics import MetricsOptions, metrics_frames
from cjkit.engine import periods as per
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.insight import compare
from cjkit.engine.insight.scan import scan
from cjkit.engine.insight.tests import scipy_stats
from cjkit.engine.matchers import predicate
from cjkit.errors import UsageError, one_of
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.report.metrics import MetricsReport
from cjkit.timerange import TimeRange, parse_range

EVENTS_KEY = "insight_events"


def metrics_compare(
    paths: Sequence[str], options: MetricsOptions, mode: str, alpha: float = 0.05
) -> MetricsReport:
    """Return the metrics report with ``compare: {since, until, now, stages: [{id, then,
    change}]}``; raise UsageError for a bad ``mode`` or ``alpha``."""
    scipy_stats()
    if not 0 < alpha < 1:
        raise UsageError(f"--alpha: expected a number between 0 and 1, got {alpha}")
    loaded = loader.load(options.model)
    model = options.read.adapt(loaded.map)
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    spec = funnel_spec(
        FunnelOptions(model=options.model, since=options.since, until=options.until),
        model,
        time_range,
        sources.USER,
    )
    period = cast(
        per.Period, one_of("--period", options.period or model.settings.period, per.PERIODS)
    )

    def step_events(clean: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
        frame = clean.select(*[pl.col(c) for c in spec.columns() if c != sources.RAW_TIME])
        if spec.order == "strict":
            return {EVENTS_KEY: frame}
        keep = [predicate(s.matchers) for s in spec.steps]
        keep += [predicate(e.matchers) for e in spec.exclusions]
        return {EVENTS_KEY: frame.filter(pl.any_horizontal(keep))}

    report, frames = metrics_frames(paths, options, step_events)
    end = report.source.get("end")
    then, now = compare.resolve(
        mode,
        time_range if time_range.since and time_range.until else TimeRange(),
        period=period,
        tz=column_map.tz,
        week_start=model.settings.week_start,
        data_end=datetime.fromisoformat(end) if end else None,
        window_s=spec.window_s,
    )
    ranges = {"then": then, "now": now}
    scanned = scan(frames[EVENTS_KEY].lazy(), spec, lambda: ranges, TimeRange())
    one = replace(spec, by=())
    then_steps = funnel_engine.summarize(scanned.units["then"], one, {}).steps
    now_steps = funnel_engine.summarize(scanned.units["now"], one, {}).steps
    changes = step_changes(then_steps, now_steps, scanned, spec.n)
    tested = (
        "conversion_from_previous",
        "conversion_from_start",
        "median_time_to_convert_s",
        "mean_time_to_convert_s",
    )
    compare.mark_significant([c[key] for c in changes for key in tested], alpha)
    stages: list[dict[str, Any]] = [
        {
            "id": st.id,
            "then": _numbers(a),
            "now": _numbers(b),
            "change": ch,
        }
        for st, a, b, ch in zip(report.stages, then_steps, now_steps, changes, strict=True)
    ]
    block = {**then.as_dict(), "now": now.as_dict(), "alpha": alpha, "stages": stages}
    return replace(report, extra={"compare": block})


def _numbers(step: Any) -> dict[str, Any]:
    ttc = step.time_to_convert
    return {
        "count": step.count,
        "conversion_from_previous": step.conversion_from_previous,
        "conversion_from_start": step.conversion_from_start,
        "median_time_to_convert_s": ttc.median_s if ttc else None,
    }
