"""Library entry points for ``cjkit metrics`` (every stage of a model) .

:func:`metrics` reads the events once: the columns and rows the model needs are collected
together with the data-quality check, then every stage's queries (funnel, per-unit facts,
revenue tables, retention cohorts) are collected in one ``pl.collect_all`` over that table.
Nothing here prints.

>>> from cjkit import api_metrics
>>> report = api_metrics.metrics(["events.parquet"], api_metrics.MetricsOptions(model="aarrr"))
... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

import polars as pl

from cjkit.api.checks import missing_events, report_missing
from cjkit.api.core import FunnelOptions, ReadOptions, funnel_spec, read_errors
from cjkit.api.spend import read_spend, spend_of
from cjkit.api.targets import ALIAS, evaluate, lookup, read_baseline
from cjkit.engine import passes as memory
from cjkit.engine import periods as per
from cjkit.engine.metrics import combine as metrics_combine
from cjkit.engine.metrics import plan as metrics_plan
from cjkit.engine.metrics import query as metrics_query
from cjkit.engine.metrics import summary as metrics_summary
from cjkit.engine.metrics.base import Context
from cjkit.errors import UsageError, one_of
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.maps.schema import JourneyMap
from cjkit.report.metrics import MetricsReport
from cjkit.timerange import parse_range

__all__ = [
    "ExtraQueries",
    "MetricsOptions",
    "evaluate",
    "lookup",
    "metrics",
    "metrics_frames",
    "read_baseline",
    "read_spend",
    "run",
]


@dataclass(frozen=True)
class MetricsOptions:
    """The flags of ``cjkit metrics``; ``None`` leaves the map's setting (or the default)."""

    model: str
    by: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    period: str | None = None
    spend: str | None = None
    breakdowns: bool = True  # without --by, break down by the map's segments
    read: ReadOptions = field(default_factory=ReadOptions)
    compare: str | None = None  # --compare previous|A..B (cjkit.api.compare)
    alpha: float = 0.05
    # --top: keep the N values of each breakdown with the most units, the rest as one (other)
    # group (tables default to cjkit.report.folding.TABLE_TOP); None keeps every value.
    top: int | None = None
    # Passes over disjoint sets of units; None chooses from the row count and the memory
    # (cjkit.engine.passes, CJKIT_MEMORY_LIMIT). Any count gives the same report.
    passes: int | None = None


# --- metrics --------------------------------------------------------------------------------


def _target_periods(model: JourneyMap) -> dict[str, int]:
    """Return, per retention stage, the deepest period a target asks for (week_12 → 12)."""
    out: dict[str, int] = {}
    for target in model.targets:
        stage_id, _, name = target.metric.partition(".")
        match = ALIAS.match(name)
        if match:
            out[stage_id] = max(out.get(stage_id, 0), int(match.group(2)))
    return out


def _require(events: sources.Events, plan: metrics_plan.MetricsPlan, by_option: bool) -> None:
    # Segments from the ``by`` option are named as that option (the CLI says --by); the
    # map's own are "segments".
    events.require(list(plan.segments), "by" if by_option else "segments", option=by_option)
    for s in plan.stages:
        for m in s.matchers:
            events.require(m.properties(), f"stage '{s.id}' events")
    for ex in plan.funnel.exclusions:
        for m in ex.matchers:
            events.require(m.properties(), "an exclusion step")


def _builtin(loaded: loader.LoadedMap) -> bool:
    return loaded.path is None or loaded.path.resolve().parent == loader.models_dir().resolve()


# Extra queries over the clean events, collected in the same pass as the model's table
# (``cjkit report`` adds lifecycle and stickiness this way instead of scanning again).
ExtraQueries = Callable[[pl.LazyFrame], dict[str, pl.LazyFrame]]


def run(
    paths: Sequence[str],
    options: MetricsOptions,
    *,
    breakdowns: bool,
    extra: ExtraQueries | None = None,
) -> tuple[MetricsReport, loader.LoadedMap, dict[str, pl.DataFrame]]:
    loaded = loader.load(options.model)
    model = options.read.adapt(loaded.map)
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    period = cast(
        per.Period, one_of("period", options.period or model.settings.period, per.PERIODS)
    )
    spend = spend_of(options.spend, loaded)
    events = sources.read(paths, column_map)
    fspec = funnel_spec(
        FunnelOptions(model=options.model, since=options.since, until=options.until),
        model,
        time_range,
        sources.USER,
    )
    depth = _target_periods(model)
    stages = tuple(
        metrics_plan.plan_stage(
            i,
            stage,
            events.columns,
            period=period if options.period else None,
            default_period=model.settings.period,
            retention_periods=depth.get(stage.id),
        )
        for i, stage in enumerate(model.stages)
    )
    segments = tuple(options.by) or (tuple(model.segments) if breakdowns else ())
    ctx = Context(
        since=time_range.since,
        until=time_range.until,
        tz=column_map.tz,
        period=period,
        week_start=model.settings.week_start,
        first_flag=stages[0].flag,
    )
    plan = metrics_plan.MetricsPlan(model, stages, fspec, ctx, segments)
    _require(events, plan, bool(options.by))
    clean = events.clean()
    # Whether each stage event occurs at all, in the same scan (a misspelt name is a warning).
    named = list(dict.fromkeys((n, st.name) for st in model.stages for n in st.event_names()))
    with read_errors(events):
        passes = options.passes or memory.passes_for(
            events.estimated_rows(), bytes_per_event=memory.METRICS_BYTES_PER_EVENT
        )
    # Distinct units over every event: in passes, counted per pass and summed (the passes'
    # units are disjoint); over the whole input it held 13.6 GiB on 1B events.
    units = [pl.col(sources.USER).n_unique().alias("units")] if passes == 1 else []
    summary = clean.select(
        pl.len().alias("rows"),
        *units,
        pl.col(sources.TIME).min().alias("start"),
        pl.col(sources.TIME).max().alias("end"),
        *(
            (pl.col(sources.EVENT) == name).any().alias(f"_has_{i}")
            for i, (name, _) in enumerate(named)
        ),
    )
    more = extra(clean) if extra is not None else {}
    # The narrowed events are collected on their own: in one collect_all with the summary, the
    # shared scan held every column of every event (a one-pass run on 100M events peaked at
    # 9.0 GiB that way, 6.7 GiB this way).
    with read_errors(events):
        source, quality, *more_frames = pl.collect_all(
            [summary, sources.quality(events), *more.values()]
        )
    sources.raise_for_quality(events, quality.row(0, named=True))
    if passes == 1:
        with read_errors(events):
            table = metrics_query.narrow(clean, plan).collect()
        table, plan, folds = _fold(table, plan, options.top)
        frames = _pass_frames(events, table, plan)
        del table
    else:
        frames, plan, folds, n_units = _in_passes(events, clean, plan, passes, options.top)
    frames.update(zip(more, more_frames, strict=True))
    src = source.row(0, named=True)
    if passes > 1:
        src["units"] = n_units
    span = metrics_summary.Span(src["start"], src["end"])
    results, groups, population = metrics_summary.assemble(
        frames, plan, span, spend, breakdowns=bool(segments)
    )
    warnings = list(events.warnings)
    absent = [(owner, name) for i, (name, owner) in enumerate(named) if not src[f"_has_{i}"]]
    if absent:  # the did-you-mean reads the event names: only on this path
        with read_errors(events):
            missing = missing_events(events, absent, "stage")
        report_missing(warnings, missing, strict=options.read.strict)
    if population["units"] == 0:
        first = model.stages[0]
        warnings.append(
            f"no unit has an event of the first stage, {first.name} "
            f"({', '.join(first.event_names())}), in the range: the population is empty and "
            "every metric is null"
        )
    report = MetricsReport(
        model={
            "id": model.id,
            "name": model.name,
            "file": None if _builtin(loaded) else loaded.display,
        },
        settings={
            "order": fspec.order,
            "window_seconds": fspec.window_s,
            "period": period,
            "week_start": ctx.week_start,
            "timezone": ctx.tz,
            **time_range.as_dict(),
            "spend": spend.file if spend else None,
            "segments": list(segments),
        },
        source={
            "files": events.files,
            "rows": int(src["rows"]),
            "units": int(src["units"]),
            "start": src["start"].isoformat() if src["start"] else None,
            "end": src["end"].isoformat() if src["end"] else None,
        },
        population=population,
        stages=results,
        breakdowns=groups,
        warnings=warnings,
    )
    if folds:
        report = replace(
            report,
            breakdowns=[replace(b, by=segments[i]) for i, b in enumerate(report.breakdowns)],
            extra={**report.extra, "breakdown_other": [f.to_dict() for f in folds]},
        )
    return replace(report, checks=evaluate(report, loaded, None)), loaded, frames


def _pass_frames(
    events: sources.Events, table: pl.DataFrame, plan: metrics_plan.MetricsPlan
) -> dict[str, pl.DataFrame]:
    """Return the collected tables of every stage's queries over narrowed events."""
    with read_errors(events):
        parts = metrics_query.queries(table.lazy(), plan)
        return dict(zip(parts, pl.collect_all(list(parts.values())), strict=True))


def _in_passes(
    events: sources.Events,
    clean: pl.LazyFrame,
    plan: metrics_plan.MetricsPlan,
    passes: int,
    top: int | None,
) -> tuple[dict[str, pl.DataFrame], metrics_plan.MetricsPlan, list[Any], int]:
    """Return the report's tables from ``passes`` passes over disjoint sets of units, one
    pass's events in memory at a time, merged by :func:`cjkit.engine.metrics.combine.combine`,
    and the distinct units of every event, summed over the passes. The values a fold keeps
    rank all the units, so the fold comes before the split."""
    with read_errors(events):
        narrowed, plan, folds = _fold(metrics_query.narrow(clean, plan), plan, top)
    collected = []
    units = 0
    parts = zip(
        memory.split_units(narrowed, sources.USER, passes),
        memory.split_units(clean, sources.USER, passes),
        strict=True,
    )
    for part, everything in parts:
        with read_errors(events):
            table = part.collect()
            units += int(everything.select(pl.col(sources.USER).n_unique()).collect().item())
        collected.append(_pass_frames(events, table, plan))
        del table
    return metrics_combine.combine(collected, plan), plan, folds, units


_Frame = TypeVar("_Frame", pl.DataFrame, pl.LazyFrame)


def _fold(
    table: _Frame, plan: metrics_plan.MetricsPlan, top: int | None
) -> tuple[_Frame, metrics_plan.MetricsPlan, list[Any]]:
    """Return the narrowed events with each breakdown's values outside the ``top`` with the
    most units as ``(other)``, in a column of its own (a stage may read the same property, as
    the acquisition channel), the plan that breaks down by those columns, and what was folded."""
    if top is not None and top < 1:  # checked with or without a breakdown to fold
        raise UsageError(f"top: expected a whole number of at least 1, got {top}", option="top")
    if top is None or not plan.segments:
        return table, plan, []
    from cjkit.engine.insight import segments

    unit = pl.col(sources.USER)
    folds = []
    names = []
    for i, prop in enumerate(plan.segments):
        name = f"__fold{i}"
        table, folded = segments.fold_values(
            table, [prop], top, size=unit.n_unique(), where=unit.is_not_null(), into=[name]
        )
        folds.append(folded)
        names.append(name)
    return table, replace(plan, segments=tuple(names)), folds


def metrics(paths: Sequence[str], options: MetricsOptions) -> MetricsReport:
    """Return the per-stage report of ``options.model`` on the events under ``paths``."""
    if options.compare:
        from cjkit.api.compare import metrics_compare

        return metrics_compare(
            paths, replace(options, compare=None), options.compare, options.alpha
        )
    report, _, _ = run(paths, options, breakdowns=options.breakdowns)
    return report


def metrics_frames(
    paths: Sequence[str], options: MetricsOptions, extra: ExtraQueries | None = None
) -> tuple[MetricsReport, dict[str, pl.DataFrame]]:
    """Return the metrics report and the collected tables behind it (``journeys``: the funnel's
    per-unit table; plus ``extra``'s queries over the clean events, run in the same scan)."""
    report, _, frames = run(paths, options, breakdowns=options.breakdowns, extra=extra)
    return report, frames
