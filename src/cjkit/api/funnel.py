"""The funnel: options in, a :class:`FunnelRun` out (the report, the per-unit journeys for
``--units``, and the warnings). Phase 1 (journeys) and phase 2 (the summary) are in
:mod:`cjkit.engine.funnel`; this module plans them from flags and a map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from cjkit.api.checks import missing_step_events, report_missing
from cjkit.api.read import ReadOptions, collect_checked, load_model, read_errors
from cjkit.durations import parse_duration
from cjkit.engine import passes as memory
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.funnel.journeys import MAX_STEPS, Exclusion, FunnelSpec, Step, journeys
from cjkit.engine.matchers import Matcher, parse_cli_step, parse_entries
from cjkit.errors import UsageError, one_of
from cjkit.io import sources
from cjkit.maps.schema import JourneyMap
from cjkit.report.core import FunnelReport
from cjkit.timerange import TimeRange, parse_range


@dataclass(frozen=True)
class FunnelOptions:
    """The flags of ``cjkit funnel``; ``None`` leaves a map's setting (or the default) alone."""

    steps: tuple[str, ...] = ()
    step_exact: bool = False  # every step is one event name, as written ([, ], | included)
    model: str | None = None
    window: str | None = None
    order: str | None = None
    anchor: str | None = None
    allow_event_reuse: bool | None = None
    strict_increase: bool | None = None
    exclude: tuple[str, ...] = ()
    aggregate_by: str | None = None
    since: str | None = None
    until: str | None = None
    by: tuple[str, ...] = ()
    attribution: str = "first"
    read: ReadOptions = field(default_factory=ReadOptions)
    # --compare, --trend, --ttc-*, --correlate, --top, --alpha: cjkit.api.insight.InsightOptions
    insight: Any = None
    # Fold --by to this many segments, the rest as (other), when --top is not given (a table's
    # default, cjkit.report.folding.TABLE_TOP); None keeps every segment.
    fold: int | None = None


@dataclass(frozen=True)
class FunnelRun:
    """A funnel report, plus the per-unit journey table for ``--units``."""

    report: FunnelReport
    journeys: pl.DataFrame
    spec: FunnelSpec
    unit_name: str
    warnings: list[str]

    @property
    def units(self) -> pl.DataFrame:
        """Return the per-unit table (built on demand: most runs never write it)."""
        return _units_table(self.journeys, self.spec, self.unit_name)


_EXCLUDE_RANGE = re.compile(r"^(?P<event>.+):(?P<a>\d+)-(?P<b>\d+)$")


def _steps_from_model(model: JourneyMap) -> tuple[Step, ...]:
    return tuple(
        Step(s.name, tuple(parse_entries(s.events)), first_time=s.first_time) for s in model.stages
    )


def _exclusions(options: FunnelOptions, model: JourneyMap | None, n: int) -> tuple[Exclusion, ...]:
    out: list[Exclusion] = []
    if model is not None and not options.exclude:
        ids = model.stage_ids()
        for ex in model.settings.exclusions:
            a, b = (
                (ids.index(ex.between[0]) + 1, ids.index(ex.between[1]) + 1)
                if ex.between
                else (1, n)
            )
            out.append(Exclusion((Matcher(ex.event),), a, b, label=ex.event))
    for text in options.exclude:
        match = _EXCLUDE_RANGE.match(text)
        event, a, b = (match["event"], int(match["a"]), int(match["b"])) if match else (text, 1, n)
        if not 1 <= a < b <= n:
            raise UsageError(
                f"exclude {text}: steps must satisfy 1 ≤ A < B ≤ {n} (the funnel has {n} steps)",
                option="exclude",
            )
        out.append(Exclusion(tuple(parse_cli_step(event)), a, b, label=text))
    return tuple(out)


def _attribution(text: str, n: int) -> Literal["first", "last"] | int:
    if text == "first":
        return "first"
    if text == "last":
        return "last"
    match = re.fullmatch(r"step:(\d+)", text)
    if match and 1 <= int(match.group(1)) <= n:
        return int(match.group(1))
    raise UsageError(
        f"attribution: expected first, last or step:N with 1 ≤ N ≤ {n}, got {text!r}",
        option="attribution",
    )


def funnel_spec(
    options: FunnelOptions, model: JourneyMap | None, time_range: TimeRange, unit: str
) -> FunnelSpec:
    """Return the funnel spec from flags laid over a map's settings; raise UsageError."""
    if options.steps:
        steps = tuple(
            Step(text, (Matcher(text),) if options.step_exact else tuple(parse_cli_step(text)))
            for text in options.steps
        )
    elif model is not None:
        steps = _steps_from_model(model)
    else:
        raise UsageError("give the steps with --step E (at least two) or a model with --model")
    if len(steps) < 2:
        raise UsageError(f"a funnel needs at least two steps, got {len(steps)}")
    if len(steps) > MAX_STEPS:
        raise UsageError(f"a funnel has at most {MAX_STEPS} steps, got {len(steps)}")
    settings = model.settings if model is not None else None
    window_text = options.window or (settings.window if settings else "14d")
    try:
        window = parse_duration(window_text)
    except ValueError as exc:
        raise UsageError(f"window: {exc}", option="window") from None
    order = one_of(
        "order",
        options.order or (settings.order if settings else "ordered"),
        ("ordered", "strict", "any"),
    )
    anchor = one_of(
        "anchor",
        options.anchor or (settings.window_anchor if settings else "latest"),
        ("latest", "first"),
    )
    reuse = (
        options.allow_event_reuse
        if options.allow_event_reuse is not None
        else bool(settings and settings.allow_event_reuse)
    )
    increase = (
        options.strict_increase
        if options.strict_increase is not None
        else bool(settings and settings.strict_increase)
    )
    exclusions = _exclusions(options, model, len(steps))
    if order == "any" and any((e.start, e.end) != (1, len(steps)) for e in exclusions):
        raise UsageError(
            "an any-order funnel takes only whole-funnel exclusions ({exclude} EVENT)",
            options=("exclude",),
        )
    if order == "any" and anchor == "first":
        raise UsageError(
            "anchor first applies to ordered funnels, not {order} any",
            option="anchor",
            options=("order",),
        )
    if order != "ordered" and reuse:
        raise UsageError("allow_event_reuse applies to ordered funnels", option="allow_event_reuse")
    if order == "any" and increase:
        raise UsageError(
            "strict_increase applies to ordered and strict funnels, not {order} any",
            option="strict_increase",
            options=("order",),
        )
    return FunnelSpec(
        steps=steps,
        window_s=window,
        order=order,  # type: ignore[arg-type]
        anchor=anchor,  # type: ignore[arg-type]
        allow_event_reuse=reuse,
        strict_increase=increase,
        exclusions=exclusions,
        since=time_range.since,
        until=time_range.until,
        by=tuple(options.by),
        attribution=_attribution(options.attribution, len(steps)),
        unit=unit,
    )


def _check_columns(events: sources.Events, spec: FunnelSpec) -> None:
    for col in spec.columns():
        if col not in ("event", "timestamp"):
            what = (
                "aggregate_by"
                if col == spec.unit and col != sources.USER
                else ("by" if col in spec.by else None)
            )
            if col == sources.USER:
                events.require([col], "the unit column")
            elif what is None:
                events.require([col], "a step filter")
            else:
                events.require([col], what, option=True)


def funnel(paths: Sequence[str], options: FunnelOptions) -> FunnelRun:
    """Return the funnel report for ``paths`` (and the per-unit table behind it)."""
    if options.insight is not None and options.insight.active():
        from cjkit.api.insight import run as insight_run

        return insight_run(paths, options, options.insight).funnel_run()
    loaded = load_model(options.model) if options.model else None
    model = options.read.adapt(loaded.map) if loaded else None
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    unit = options.aggregate_by or sources.USER
    spec = funnel_spec(options, model, time_range, unit)
    events = sources.read(paths, column_map)
    _check_columns(events, spec)
    # Reading the Parquet footers for the row count happens inside the read-error boundary.
    units = collect_checked(
        events,
        lambda collect: journeys(
            events.clean(), spec, collect, passes=memory.passes_for(events.estimated_rows())
        ),
    )
    settings: dict[str, Any] = {
        "order": spec.order,
        "window_seconds": spec.window_s,
        "window_anchor": spec.anchor,
        "allow_event_reuse": spec.allow_event_reuse,
        "strict_increase": spec.strict_increase,
        "exclusions": [
            {"event": e.label or e.matchers[0].name, "from_step": e.start, "to_step": e.end}
            for e in spec.exclusions
        ],
        "unit": unit,
        "attribution": options.attribution,
        "model": model.id if model else None,
        "timezone": column_map.tz,
        **time_range.as_dict(),
    }
    shown, folded = units, None
    if options.fold is not None and spec.by:
        from cjkit.engine.insight import segments

        shown, folded = segments.fold_top(units, list(spec.by), options.fold)
    report = funnel_engine.summarize(shown, spec, settings)
    report = FunnelReport(
        settings=report.settings,
        steps=report.steps,
        by=report.by,
        groups=report.groups,
        excluded_units=report.excluded_units,
        source={"files": events.files},
        extra={"breakdown_other": folded.to_dict()} if folded is not None else {},
    )
    with read_errors(events):
        kind = "stage" if model is not None and not options.steps else "step"
        missing = missing_step_events(events, spec, report, kind)
    report_missing(events.warnings, missing, strict=options.read.strict)
    return FunnelRun(report, units, spec, column_map.user, events.warnings)


def _units_table(units: pl.DataFrame, spec: FunnelSpec, unit_name: str) -> pl.DataFrame:
    names = [s.name for s in spec.steps]
    times = [
        pl.from_epoch(pl.col(f"t_{k}"), time_unit="us")
        .dt.replace_time_zone("UTC")
        .alias(f"{k}_{name}_at")
        for k, name in enumerate(names, start=1)
    ]
    return units.sort("unit").select(
        pl.col("unit").alias(unit_name if spec.unit == sources.USER else spec.unit),
        pl.col("level").alias("furthest_step"),
        pl.col("level")
        .replace_strict(dict(enumerate(names, start=1)), default=None, return_dtype=pl.String)
        .alias("furthest_step_name"),
        "excluded",
        *times,
        *spec.by,
    )
