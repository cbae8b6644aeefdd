"""``paths``: what units do between, before and after events or funnel steps.

Options → a :class:`PathSpec` (and, for funnel paths, the funnel's per-unit table from the funnel
engine) → phase 1 (engine/paths/sequences.py) → phase 2 (engine/paths/summary.py) → a
:class:`PathsReport`. Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cjkit.api.checks import report_missing
from cjkit.api.core import (
    FunnelOptions,
    ReadOptions,
    collect_checked,
    funnel_spec,
    load_model,
    read_errors,
)
from cjkit.durations import parse_duration
from cjkit.engine import passes as memory
from cjkit.engine.funnel.journeys import FunnelSpec, journeys
from cjkit.engine.paths import summary
from cjkit.engine.paths.sequences import PathSpec, Sequences, sequences, strip_slash
from cjkit.errors import InputError, UsageError, did_you_mean, one_of
from cjkit.io import sources
from cjkit.maps.schema import JourneyMap
from cjkit.report.paths import PathsReport
from cjkit.timerange import parse_range

FUNNEL_MODES = ("after", "before", "between")
EVENT_TYPES = ("pageview", "screen", "custom")
CONVERTERS = "converters"
# Paths peaked at about 165 bytes per input event on 10M events (the scan, then two sorted
# copies of the narrow integer columns): a pass is planned at 250.
BYTES_PER_EVENT = 250


@dataclass(frozen=True)
class PathsOptions:
    """The flags of ``cjkit paths``; the funnel's flags (steps, model, window…) sit in ``funnel``."""

    start: str | None = None
    end: str | None = None
    steps: int = 5
    session: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    clean: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    min_units: int = 1
    top: int = 50
    funnel_step: int | None = None
    funnel_mode: str = "after"
    matrix: bool = False
    diff_by: str | None = None
    transitions: bool = False
    funnel: FunnelOptions = field(default_factory=FunnelOptions)

    @property
    def read(self) -> ReadOptions:
        """Return how to read the events (the funnel options carry them)."""
        return self.funnel.read


def parse_clean(text: str, where: str = "--clean") -> tuple[str, str]:
    """Return (regex, alias) of ``'REGEX=>ALIAS'``; raise UsageError naming the pattern and
    the position of a regex error."""
    if "=>" not in text:
        raise UsageError(
            f"{where} {text!r}: expected 'REGEX=>ALIAS', for example '/product/\\d+=>/product/:id'"
        )
    regex, alias = text.split("=>", 1)
    check_regex(regex, where)
    return regex, alias


def check_regex(regex: str, where: str) -> None:
    """Raise UsageError when ``regex`` is not a valid pattern (Python's and Polars' syntax)."""
    if not regex:
        raise UsageError(f"{where}: the pattern before '=>' is empty")
    try:
        re.compile(regex)
    except re.error as exc:
        raise UsageError(f"{where}: bad regex {regex!r} at position {exc.pos}: {exc.msg}") from None
    try:
        pl.Series([""]).str.replace_all(regex, "")
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{where}: regex {regex!r} is not supported: {first}") from None


def _node_rules(texts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for text in texts:
        event, sep, prop = text.partition("=")
        if not sep or not event or not prop:
            raise UsageError(
                f"--node {text!r}: expected EVENT=PROPERTY, for example '$pageview=$current_url'"
            )
        out.append((event, prop))
    return tuple(out)


def _group(text: str | None) -> tuple[str, str] | None:
    if text is None or text == CONVERTERS:
        return None
    col, sep, value = text.partition("=")
    if not sep or not col:
        raise UsageError(f"--diff-by {text!r}: expected COLUMN=VALUE or {CONVERTERS}")
    return col, value


def path_spec(options: PathsOptions, model: JourneyMap | None, unit: str) -> PathSpec:
    """Return the paths spec from the flags (and a map's ``paths.cleaning``); raise UsageError."""
    if options.steps < 1:
        raise UsageError(f"--steps: expected a whole number of at least 1, got {options.steps}")
    if options.top < 1:
        raise UsageError(f"--top: expected a whole number of at least 1, got {options.top}")
    if options.min_units < 1:
        raise UsageError(
            f"--min-units: expected a whole number of at least 1, got {options.min_units}"
        )
    session = None
    if options.session is not None:
        try:
            session = parse_duration(options.session)
        except ValueError as exc:
            raise UsageError(f"--session: {exc} (the gap must be at least 1s)") from None
    for kind in options.event_types:
        one_of("--event-types", kind, EVENT_TYPES)
    cleaning: list[tuple[str, str]] = []
    if model is not None:
        for i, rule in enumerate(model.paths.cleaning):
            check_regex(rule.regex, f"paths.cleaning[{i}].regex")
            cleaning.append((rule.regex, rule.alias))
    cleaning.extend(parse_clean(text) for text in options.clean)
    if options.diff_by and not options.matrix:
        raise UsageError("--diff-by compares step matrices: add --matrix")
    return PathSpec(
        unit=unit,
        steps=options.steps,
        session_s=session,
        start=strip_slash(options.start) if options.start else None,
        end=strip_slash(options.end) if options.end else None,
        include=tuple(options.include),
        exclude=tuple(options.exclude),
        event_types=tuple(options.event_types),
        nodes=_node_rules(options.nodes),
        cleaning=tuple(cleaning),
        group=_group(options.diff_by),
        transitions=options.transitions,
    )


def _funnel_bounds(units: pl.DataFrame, fspec: FunnelSpec, step: int, mode: str) -> pl.LazyFrame:
    """Return (unit, lo, hi) per unit in the funnel-path population (PostHog's funnel paths).

    step > 0: units that reached it; after = from t_step, before = up to t_step, between =
    t_{step-1}..t_step. step < 0: units that reached |step|-1 but not |step|; after = from
    t_{|step|-1}, before = up to t_{|step|-1} + window, between = that window.
    """
    window = fspec.window_s * 1_000_000
    kept = units.filter(~pl.col("excluded"))
    if step > 0:
        kept = kept.filter(pl.col("level") >= step)
        at, prev = pl.col(f"t_{step}"), pl.col(f"t_{step - 1}") if step > 1 else None
        lo = {"after": at, "before": None, "between": prev}[mode]
        hi = {"after": None, "before": at, "between": at}[mode]
    else:
        reached = -step - 1
        kept = kept.filter(pl.col("level") == reached)
        at = pl.col(f"t_{reached}")
        lo = {"after": at, "before": None, "between": at}[mode]
        hi = {"after": None, "before": at + window, "between": at + window}[mode]
    none = pl.lit(None, pl.Int64)
    return kept.lazy().select(
        pl.col("unit"),
        (lo if lo is not None else none).alias("lo"),
        (hi if hi is not None else none).alias("hi"),
    )


def _check_funnel_step(step: int, mode: str, n: int) -> None:
    if step == 0 or abs(step) > n or step == -1:
        raise UsageError(
            f"--funnel-step {step}: expected 1..{n} (units that reached the step) or "
            f"-2..-{n} (units that reached the step before but not this one); the funnel has {n} steps"
        )
    if mode == "between" and step == 1:
        raise UsageError("--funnel-step 1 --between: there is no step before step 1")


def _funnel_units(events: sources.Events, fspec: FunnelSpec) -> pl.DataFrame:
    for col in fspec.columns():
        if col not in ("event", "timestamp"):
            events.require([col], "a step filter" if col != sources.USER else "the unit column")
    return collect_checked(
        events,
        lambda collect: journeys(
            events.clean(), fspec, collect, passes=memory.passes_for(events.estimated_rows())
        ),
    )


def _settings(
    options: PathsOptions, spec: PathSpec, fspec: FunnelSpec | None, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "start": spec.start,
        "end": spec.end,
        "steps": spec.steps,
        "session_seconds": spec.session_s,
        "include": list(spec.include),
        "exclude": list(spec.exclude),
        "event_types": list(spec.event_types),
        "nodes": [{"event": e, "property": p} for e, p in spec.nodes],
        "cleaning": [{"regex": r, "alias": a} for r, a in spec.cleaning],
        "min_units": options.min_units,
        "top": options.top,
        "funnel": (
            {
                "step": options.funnel_step,
                "mode": options.funnel_mode,
                "steps": [s.name for s in fspec.steps],
                "window_seconds": fspec.window_s,
                "order": fspec.order,
            }
            if fspec is not None and options.funnel_step is not None
            else None
        ),
        "matrix": options.matrix,
        "diff_by": options.diff_by,
        "transitions": options.transitions,
        "unit": spec.unit,
        **extra,
    }


def paths(paths_in: Sequence[str], options: PathsOptions) -> PathsReport:
    """Return the paths report for the event files ``paths_in``."""
    fo = options.funnel
    loaded = load_model(fo.model) if fo.model else None
    model = loaded.map if loaded else None
    column_map = options.read.column_map(model)
    time_range = parse_range(fo.since, fo.until, column_map.tz)
    unit = fo.aggregate_by or sources.USER
    spec = path_spec(options, model, unit)
    mode = one_of("--after/--before/--between", options.funnel_mode, FUNNEL_MODES)
    wants_funnel = options.funnel_step is not None or options.diff_by == CONVERTERS
    if wants_funnel and not fo.steps and model is None:
        flag = "--funnel-step" if options.funnel_step is not None else "--diff-by converters"
        raise UsageError(f"{flag} needs a funnel: give its steps with -s A -s B … or --model M")
    fspec = funnel_spec(fo, model, time_range, unit) if wants_funnel else None
    events = sources.read(paths_in, column_map)
    events.require(
        [c for c in spec.columns() if c not in ("event", "timestamp")], "--node/--diff-by"
    )
    bounds = flags = None
    if fspec is not None:
        if options.funnel_step is not None:
            _check_funnel_step(options.funnel_step, mode, fspec.n)
        units = _funnel_units(events, fspec)
        if options.funnel_step is not None:
            bounds = _funnel_bounds(units, fspec, options.funnel_step, mode)
            if spec.session_s is None:
                # PostHog splits funnel paths on the funnel window, not on a session gap.
                spec = _replace(spec, session_s=fspec.window_s)
        if options.diff_by == CONVERTERS:
            converted = (pl.col("level") == fspec.n) & ~pl.col("excluded")
            flags = units.lazy().select("unit", converted.alias("g"))
    else:
        spec = _replace(spec, since=time_range.since, until=time_range.until)
    seqs = _sequences(events, spec, bounds, flags, checked=fspec is None)
    _check_points(seqs, spec)
    report = _report(seqs, spec, options, fspec, events, column_map.tz, time_range.as_dict())
    report_missing(report.warnings, _unknown_events(events, spec), strict=options.read.strict)
    return report


def _unknown_events(events: sources.Events, spec: PathSpec) -> list[str]:
    """Return a warning for each event named in --include/--exclude/--node that never occurs."""
    named = [
        *(("--include", e) for e in spec.include),
        *(("--exclude", e) for e in spec.exclude),
        *(("--node", e) for e, _ in spec.nodes),
    ]
    if not named:
        return []
    with read_errors(events):
        present = events.clean().select(pl.col("event").unique()).collect()["event"].to_list()
    seen = {str(e) for e in present if e is not None}
    out = []
    for flag, event in named:
        # An --exclude may name a node (a property value or a cleaned name), not an event.
        renamed = flag == "--exclude" and bool(spec.cleaning or spec.nodes)
        if event not in seen and not renamed:
            hint = did_you_mean(event, seen)
            out.append(f"{flag} {event}: no such event in the data" + (f"; {hint}" if hint else ""))
    return out


def _replace(spec: PathSpec, **changes: Any) -> PathSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _sequences(
    events: sources.Events,
    spec: PathSpec,
    bounds: pl.LazyFrame | None,
    flags: pl.LazyFrame | None,
    *,
    checked: bool,
) -> Sequences:
    passes = memory.passes_for(events.estimated_rows(), bytes_per_event=BYTES_PER_EVENT)
    found: list[Sequences] = []
    if checked:
        # The quality check of the events runs in the same scan as the first pass.
        def build(collect: Any) -> pl.LazyFrame:
            found.append(sequences(events.clean(), spec, collect, passes, bounds, flags))
            return found[0].limited.lazy()

        collect_checked(events, build)
        return found[0]
    with read_errors(events):
        return sequences(events.clean(), spec, lambda f: f.collect(), passes, bounds, flags)


def _check_points(seqs: Sequences, spec: PathSpec) -> None:
    names = [n for n in seqs.names if n != "..."]
    for flag, point in (("--start", spec.start), ("--end", spec.end)):
        if point is not None and point not in names:
            hint = did_you_mean(point, names)
            raise InputError(
                f"{flag} {point!r}: no such node in the selected events"
                + (f"; {hint}" if hint else f" ({len(names)} node names)")
            )


def _report(
    seqs: Sequences,
    spec: PathSpec,
    options: PathsOptions,
    fspec: FunnelSpec | None,
    events: sources.Events,
    tz: str,
    time_range: dict[str, Any],
) -> PathsReport:
    pruning = summary.Pruning(top=options.top, min_units=options.min_units)
    kept, pruned = summary.links(seqs, pruning)
    matrix = None
    if options.matrix:
        label = options.diff_by
        matrix = summary.step_matrix(seqs, spec.steps, label)
        if label is not None and matrix.diff is not None:
            for side in ("group_paths", "rest_paths"):
                if not matrix.diff[side]:
                    which = "the group" if side == "group_paths" else "the rest"
                    raise InputError(f"--diff-by {label}: no paths in {which}; nothing to compare")
    return PathsReport(
        settings=_settings(options, spec, fspec, {"timezone": tz, **time_range}),
        total_paths=seqs.paths,
        total_units=seqs.units,
        links=kept,
        nodes=summary.nodes(seqs, kept, options.top),
        paths=summary.top_paths(seqs, spec.steps, options.top),
        step_matrix=matrix,
        transitions=summary.transitions(seqs) if options.transitions else None,
        pruned_links=pruned,
        source={"files": events.files},
        warnings=list(events.warnings),
    )
