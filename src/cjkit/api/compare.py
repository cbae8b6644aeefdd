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
from cjkit.api.insight_blocks import step_changes
from cjkit.api.metrics import MetricsOptions, metrics_frames
from cjkit.canonical import ONE_US, PERIODS, USER, WEEK_STARTS, Period, WeekStart
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
        raise UsageError(f"alpha: expected a number between 0 and 1, got {alpha}", option="alpha")
    loaded = loader.load(options.model)
    model = options.read.adapt(loaded.map)
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    spec = funnel_spec(
        FunnelOptions(model=options.model, since=options.since, until=options.until),
        model,
        time_range,
        USER,
    )
    period = cast(Period, one_of("period", options.period or model.settings.period, PERIODS))

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


# --- retention ---------------------------------------------------------------------------


def retention_compare(paths: Sequence[str], options: Any, mode: str, alpha: float = 0.05) -> Any:
    """Return the retention report with ``compare``: the cohorts that started in the compared
    range against those of the current one, each period k pooled over the complete cells (the
    average row's rule) and tested (z or Fisher), BH-corrected together.

    One retention pass from the earlier range's start serves both: the cohorts are split by
    the period they start in. Without ``--since/--until``, ``previous`` is the last cohort whose
    period 1 is complete against the cohort before it.
    """
    from cjkit.api.cohorts import retention

    scipy_stats()
    if not 0 < alpha < 1:
        raise UsageError(f"alpha: expected a number between 0 and 1, got {alpha}", option="alpha")
    tz = options.read.column_map().tz
    current = parse_range(options.since, options.until, tz)
    period = cast(Period, one_of("period", options.period, PERIODS))
    week_start = cast(WeekStart, one_of("week_start", options.week_start, WEEK_STARTS))
    full = current.since is not None and current.until is not None
    ranges: dict[str, TimeRange] = {}
    if full:
        then, now = compare.resolve(
            mode, current, period=period, tz=tz, week_start=week_start, data_end=None
        )
        ranges = {"then": then, "now": now}
    elif mode != "previous":
        ranges = {"then": _explicit(mode, tz)}
    starts = [r.since for r in ranges.values() if r.since is not None]
    run = replace(
        options, since=min(starts).isoformat() if starts else None, until=None, compare=None
    )
    report = retention(paths, run)

    def start(c: Any) -> datetime:
        return per.start_of(c.index, period, tz, week_start)

    cohorts = list(report.cohorts)
    if "now" not in ranges:
        k = 1 if options.periods >= 1 else 0
        done = [c for c in cohorts if c.complete[k]]
        if not done:
            raise UsageError("compare: no cohort has a complete period 1 yet", option="compare")
        last = done[-1]
        ranges["now"] = _cohort_range(last.index, period, tz, week_start)
        ranges.setdefault("then", _cohort_range(last.index - 1, period, tz, week_start))
    groups = {name: [c for c in cohorts if _inside(start(c), r)] for name, r in ranges.items()}
    rows: list[dict[str, Any]] = []
    for k in range(1, options.periods + 1):
        pooled = {name: _pool(cs, k) for name, cs in groups.items()}
        (x0, n0), (x1, n1) = pooled["then"], pooled["now"]
        rows.append(
            {
                "period": k,
                "then": {"units": x0, "size": n0, "rate": x0 / n0 if n0 else None},
                "now": {"units": x1, "size": n1, "rate": x1 / n1 if n1 else None},
                "change": compare.rate_change(x0, n0, x1, n1),
            }
        )
    compare.mark_significant([r["change"] for r in rows], alpha)
    block = {
        **ranges["then"].as_dict(),
        "now": ranges["now"].as_dict(),
        "alpha": alpha,
        "then_cohorts": [c.cohort for c in groups["then"]],
        "now_cohorts": [c.cohort for c in groups["now"]],
        "periods": rows,
    }
    return replace(report, extra={"compare": block})


def _cohort_range(index: int, period: Period, tz: str, week_start: WeekStart) -> TimeRange:
    end = per.start_of(index + 1, period, tz, week_start) - ONE_US
    return TimeRange(per.start_of(index, period, tz, week_start), end)


def _explicit(mode: str, tz: str) -> TimeRange:
    a, sep, b = mode.partition("..")
    then = parse_range(a.strip() or None, b.strip() or None, tz) if sep else TimeRange()
    if then.since is None or then.until is None:
        raise UsageError(
            f"compare: expected 'previous' or a range such as 2025-03-01..2025-03-31, got {mode!r}",
            option="compare",
        )
    return then


def _inside(moment: datetime, r: TimeRange) -> bool:
    return (r.since is None or moment >= r.since) and (r.until is None or moment <= r.until)


def _pool(cohorts: Sequence[Any], k: int) -> tuple[int, int]:
    """Return (returned units, cohort units) over the cohorts whose period k is complete."""
    done = [c for c in cohorts if k < len(c.complete) and c.complete[k]]
    return sum(c.counts[k] for c in done), sum(c.size for c in done)
