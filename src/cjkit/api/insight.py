"""Insight on a funnel: ``--compare``, ``--by`` against the rest, ``--top``, ``--trend``,
``--ttc-*`` and ``--correlate`` (docs/metrics.md, "Diagnose").

:func:`run` reads the events once: the step events are prepared a single time and every range
(the current one, the compared one, the trend) is cut from them; only ``--correlate`` reads
the event names a second time, joined to the units' windows. Tests come from ``scipy.stats``
(the ``stats`` extra). Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import polars as pl

from cjkit.api.checks import missing_step_events, report_missing
from cjkit.api.core import FunnelOptions, FunnelRun, _check_columns, funnel_spec, read_errors
from cjkit.api.insight_blocks import correlate, segment_report, step_changes
from cjkit.engine import passes as memory
from cjkit.engine import periods as per
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.insight import compare, segments, ttc
from cjkit.engine.insight.scan import Scanned, TrendSpec, scan, widest
from cjkit.engine.insight.tests import scipy_stats
from cjkit.engine.insight.trend import trend_rows
from cjkit.errors import UsageError, one_of
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.maps.schema import JourneyMap
from cjkit.report.core import FunnelReport
from cjkit.timerange import TimeRange, parse_range

TRENDS = ("day", "week", "month")


@dataclass(frozen=True)
class InsightOptions:
    """The insight flags; all off by default."""

    compare: str | None = None
    alpha: float = 0.05
    trend: str | None = None
    ttc_from: int | None = None
    ttc_to: int | None = None
    ttc_bins: str | None = None
    correlate: str | None = None
    correlate_exclude: tuple[str, ...] = ()
    top: int | None = None
    period: str | None = None

    def active(self) -> bool:
        """Return True when any insight flag is set."""
        return (
            any(
                v is not None
                for v in (self.compare, self.trend, self.ttc_from, self.ttc_to, self.ttc_bins)
            )
            or bool(self.correlate)
            or self.top is not None
        )


@dataclass
class Run:
    """What an insight run produced: the report, its per-unit tables and the context."""

    report: FunnelReport
    units: dict[str, pl.DataFrame]
    spec: FunnelSpec
    ranges: dict[str, TimeRange]
    model: JourneyMap | None
    events: sources.Events
    warnings: list[str] = field(default_factory=list)
    family: list[dict[str, Any] | None] = field(default_factory=list)
    correlation: dict[str, Any] | None = None
    unit_name: str = sources.USER

    def funnel_run(self) -> FunnelRun:
        """Return the run as ``api.funnel`` gives it (the per-unit table of the report's range)."""
        main = "all" if "all" in self.units else "now"
        report = replace(self.report, source={"files": self.events.files})
        return FunnelRun(report, self.units[main], self.spec, self.unit_name, self.warnings)


def _alpha(value: float) -> float:
    if not 0 < value < 1:
        raise UsageError(f"alpha: expected a number between 0 and 1, got {value}", option="alpha")
    return value


def _calendar(
    model: JourneyMap | None, insight: InsightOptions
) -> tuple[per.Period, per.WeekStart]:
    settings = model.settings if model is not None else None
    period = one_of(
        "period", insight.period or (settings.period if settings else "week"), per.PERIODS
    )
    week_start = settings.week_start if settings else "monday"
    return cast(per.Period, period), week_start


def _ttc_steps(insight: InsightOptions, n: int) -> tuple[int, int] | None:
    if insight.ttc_from is None and insight.ttc_to is None and insight.ttc_bins is None:
        return None
    a, b = insight.ttc_from or 1, insight.ttc_to or n
    if not 1 <= a < b <= n:
        raise UsageError(
            f"{{ttc_from}}/{{ttc_to}}: need 1 ≤ FROM < TO ≤ {n}, got {a} and {b}",
            options=("ttc_from", "ttc_to"),
        )
    return a, b


def _bins(text: str | None) -> int | None:
    if text is None or text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(
            f"ttc_bins: expected auto or a whole number, got {text!r}", option="ttc_bins"
        ) from None
    if value < 1:
        raise UsageError(f"ttc_bins: expected at least 1, got {value}", option="ttc_bins")
    return value


def run(
    paths: Sequence[str],
    options: FunnelOptions,
    insight: InsightOptions,
    *,
    extra_ranges: bool = False,
    by_each: bool = False,
    mark: bool = True,
) -> Run:
    """Return the funnel of ``paths`` with every insight block the flags ask for.

    With ``by_each`` the report has no breakdown (the caller breaks the per-unit tables down
    one column at a time, :func:`segment_report`); with ``mark=False`` the caller runs the
    BH correction over ``Run.family`` and its own tests. With ``extra_ranges`` (diagnose) the
    report covers the ``--since``/``--until`` range (or
    all data) and ``--compare`` adds the ``then``/``now`` pair beside it; for ``cjkit funnel``
    the report is the ``now`` range itself.
    """
    scipy_stats()
    alpha = _alpha(insight.alpha)
    loaded = loader.load(options.model) if options.model else None
    model = options.read.adapt(loaded.map) if loaded else None
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    unit = options.aggregate_by or sources.USER
    spec = funnel_spec(options, model, time_range, unit)
    period, week_start = _calendar(model, insight)
    trend = one_of("trend", insight.trend, TRENDS) if insight.trend else None
    ttc_steps = _ttc_steps(insight, spec.n)
    bins = _bins(insight.ttc_bins)
    if insight.top is not None and insight.top < 1:
        raise UsageError(f"top: expected at least 1, got {insight.top}", option="top")
    if insight.top is not None and not spec.by:
        raise UsageError(
            "top folds the segments of {by}: give {by} COL too", option="top", options=("by",)
        )
    events = sources.read(paths, column_map)
    _check_columns(events, spec)
    props = _correlate_properties(insight, events, spec)

    span: dict[str, Any] = {}

    def materialize(frame: pl.LazyFrame) -> pl.DataFrame:
        bounds = events.clean().select(
            pl.col(sources.TIME).min().alias("start"), pl.col(sources.TIME).max().alias("end")
        )
        table, quality, found = pl.collect_all([frame, sources.quality(events), bounds])
        sources.raise_for_quality(events, quality.row(0, named=True))
        span.update(found.row(0, named=True))
        return table

    resolved: dict[str, TimeRange] = {}

    def ranges() -> Mapping[str, TimeRange]:
        if resolved:
            return resolved
        if insight.compare:
            then, now = compare.resolve(
                insight.compare,
                time_range,
                period=period,
                tz=column_map.tz,
                week_start=week_start,
                data_end=span.get("end"),
                window_s=spec.window_s,
            )
            resolved.update({"then": then, "now": now})
            if extra_ranges:
                resolved["all"] = time_range
        else:
            resolved["now"] = time_range
        return resolved

    cover = _cover(insight.compare, time_range, column_map.tz)
    with read_errors(events):
        scanned = scan(
            events.clean(),
            spec,
            ranges,
            cover,
            materialize=materialize,
            passes=memory.passes_for(events.estimated_rows()),
            trend=TrendSpec(cast(per.Period, trend), column_map.tz, week_start) if trend else None,
        )
    main = "all" if "all" in resolved else "now"
    report, family, folded = _summarize(
        scanned,
        replace(spec, by=()) if by_each else spec,
        resolved,
        main,
        options,
        model,
        column_map.tz,
        insight,
    )
    extra: dict[str, Any] = {}
    if folded is not None:
        extra["breakdown_other"] = folded.to_dict()
    warnings = list(events.warnings)
    with read_errors(events):
        kind = "stage" if model is not None and not options.steps else "step"
        missing = missing_step_events(events, spec, report, kind)
    report_missing(warnings, missing, strict=options.read.strict)
    if "then" in resolved:
        then_spec = replace(spec, since=resolved["then"].since, until=resolved["then"].until, by=())
        then_report = funnel_engine.summarize(scanned.units["then"], then_spec, {})
        extra["compare"] = {
            **resolved["then"].as_dict(),
            "now": resolved["now"].as_dict(),
            "steps": [s.to_dict() for s in then_report.steps],
        }
        now_spec = replace(spec, by=())
        now_report = (
            report if main == "now" else funnel_engine.summarize(scanned.units["now"], now_spec, {})
        )
        changes = step_changes(then_report.steps, now_report.steps, scanned, spec.n)
        tested = (
            "conversion_from_previous",
            "conversion_from_start",
            "median_time_to_convert_s",
            "mean_time_to_convert_s",
        )
        family.extend(ch[key] for ch in changes for key in tested)
        extra["compare"]["changes"] = changes if main != "now" else None
        if main == "now":
            report = replace(
                report,
                steps=[
                    replace(s, extra={**s.extra, "change": ch})
                    for s, ch in zip(report.steps, changes, strict=True)
                ],
            )
        else:
            extra["compare"]["now_steps"] = [
                {**s.to_dict(), "change": ch}
                for s, ch in zip(now_report.steps, changes, strict=True)
            ]
        now_until, end = resolved["now"].until, span.get("end")
        if (
            now_until is not None
            and end is not None
            and now_until.timestamp() + spec.window_s > end.timestamp()
        ):
            warnings.append(
                f"--compare: units entering near the end of {resolved['now'].until:%Y-%m-%d} "
                "have not all had the full window yet; the current period's later steps "
                "may still grow"
            )
    main_units = scanned.units[main]
    if scanned.trend is not None and trend:
        now_range = resolved["now"]
        trend_spec = replace(spec, since=now_range.since, until=now_range.until)
        extra["trend"] = trend_rows(
            scanned.trend,
            trend_spec,
            cast(per.Period, trend),
            column_map.tz,
            week_start,
            span.get("end"),
        )
    if ttc_steps is not None:
        extra["time_to_convert_histogram"] = ttc.histogram(main_units, *ttc_steps, bins)
    block = None
    if insight.correlate:
        block = correlate(
            events,
            main_units,
            spec,
            step=spec.n,
            base_step=1,
            properties=props,
            with_events=insight.correlate == "events",
            exclude=insight.correlate_exclude,
        )
        family.extend(block["results"])
        extra["correlation"] = block
    if mark:
        compare.mark_significant(family, alpha)
    settings = {**report.settings, "alpha": alpha}
    if "then" in resolved:
        settings["compare"] = insight.compare
    if main == "now" and insight.compare:
        settings.update(resolved["now"].as_dict())
    report = replace(report, settings=settings, extra=extra)
    return Run(
        report,
        scanned.units,
        spec,
        resolved,
        model,
        events,
        warnings,
        family,
        block,
        column_map.user,
    )


def _cover(mode: str | None, current: TimeRange, tz: str) -> TimeRange:
    if not mode:
        return current
    if current.since is None or current.until is None:
        return TimeRange(None, None)
    if mode == "previous":
        length = current.until - current.since + compare.ONE_US
        return TimeRange(current.since - length, current.until)
    a, _, b = mode.partition("..")
    then = parse_range(a.strip() or None, b.strip() or None, tz) if ".." in mode else current
    return widest({"then": then, "now": current})


def _correlate_properties(
    insight: InsightOptions, events: sources.Events, spec: FunnelSpec
) -> list[str]:
    mode = insight.correlate
    if not mode or mode == "events":
        return []
    if mode == "properties":
        kinds = (pl.String, pl.Categorical, pl.Enum, pl.Boolean)
        return [
            c
            for c in events.properties
            if c != spec.unit
            and (isinstance(events.columns[c], kinds) or events.columns[c].is_integer())
        ]
    names = [p.strip() for p in mode.split(",") if p.strip()]
    events.require(names, "correlate", option=True)
    return names


def _summarize(
    scanned: Scanned,
    spec: FunnelSpec,
    resolved: dict[str, TimeRange],
    main: str,
    options: FunnelOptions,
    model: JourneyMap | None,
    tz: str,
    insight: InsightOptions,
) -> tuple[FunnelReport, list[dict[str, Any] | None], segments.Folded | None]:
    rng = resolved[main]
    settings: dict[str, Any] = {
        "order": spec.order,
        "window_seconds": spec.window_s,
        "window_anchor": spec.anchor,
        "unit": spec.unit,
        "attribution": options.attribution,
        "model": model.id if model else None,
        "timezone": tz,
        **rng.as_dict(),
    }
    main_spec = replace(spec, since=rng.since, until=rng.until)
    top = insight.top if insight.top is not None else options.fold
    return segment_report(scanned.units[main], main_spec, top, settings)
