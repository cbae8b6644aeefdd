"""Public entry points: the CLI and notebooks call these and get a report back.

Each function takes paths (or a model reference) plus options, runs one lazy query with a
single collect, and returns a dataclass from :mod:`cjkit.report`. Nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import polars as pl

from cjkit.api.checks import missing_step_events
from cjkit.durations import parse_duration
from cjkit.engine import passes as memory
from cjkit.engine.funnel import summary as funnel_engine
from cjkit.engine.funnel.journeys import MAX_STEPS, Exclusion, FunnelSpec, Step, journeys
from cjkit.engine.matchers import Matcher, parse_cli_step, parse_entries
from cjkit.errors import InputError, UsageError, did_you_mean, one_of
from cjkit.io import reading, sources
from cjkit.maps import loader
from cjkit.maps.schema import JourneyMap
from cjkit.report.core import FunnelReport, InspectReport, ModelReport, ModelsReport, ValidateReport
from cjkit.timerange import TimeRange, parse_range, zone


@dataclass(frozen=True)
class ReadOptions:
    """How to read events; ``None`` means: from the map's ``data:`` block, else the default."""

    user_col: str | None = None
    event_col: str | None = None
    time_col: str | None = None
    tz: str | None = None
    time_format: str | None = None
    table: str | None = None  # database inputs: --table T or --query SQL
    query: str | None = None
    preset: str | None = None  # --preset posthog|mixpanel|amplitude|ga4|segment|shopify
    input_format: str | None = None  # --input-format csv|tsv|ndjson|parquet (stdin: -)
    # A map (or built-in) whose data block gives the columns, zone and time format, for the
    # analyses that take no model of their own (inspect, retention, lifecycle, stickiness).
    model: str | None = None

    def column_map(self, model: JourneyMap | None = None) -> sources.ColumnMap:
        """Return the column map: flags first, then the map's data block, then its preset."""
        if model is None and self.model is not None:
            model = loader.load(self.model).map
        data = model.data if model is not None else None
        tz = self.tz or (data.timezone if data else "UTC")
        zone(tz)
        flags = reading.Flags(
            user=self.user_col,
            event=self.event_col,
            time=self.time_col,
            tz=self.tz,
            time_format=self.time_format,
            preset=self.preset,
            input_format=self.input_format,
            table=self.table,
            query=self.query,
        )
        return reading.column_map(flags, model, tz)

    def adapt(self, model: JourneyMap) -> JourneyMap:
        """Return ``model`` with the preset's standard event names added to its stages."""
        return reading.adapt_model(model, self.preset)


def load_model(ref: str) -> loader.LoadedMap:
    """Return a validated built-in model or map file; raise MapInvalid or ConfigError."""
    return loader.load(ref)


def read_events(
    paths: sources.Source, read: ReadOptions, model: JourneyMap | None = None
) -> sources.Events:
    """Return the canonical events of ``paths`` (files, globs, folders or a Polars frame)."""
    return sources.read(paths, read.column_map(model))


@contextmanager
def read_errors(events: sources.Events) -> Iterator[None]:
    """Turn Polars read and compute errors on ``events`` into one-line InputErrors."""
    try:
        yield
    except pl.exceptions.ColumnNotFoundError as exc:
        raise InputError(f"missing column: {sources.first_line(exc)}") from None
    except pl.exceptions.PolarsError as exc:
        files = events.files[0] if len(events.files) == 1 else f"{len(events.files)} files"
        raise InputError(sources.describe_read_error(files, exc)) from None
    except OSError as exc:
        raise InputError(f"can't read the events: {exc}") from None


Materialize = Callable[[pl.LazyFrame], pl.DataFrame]


def collect_checked(
    events: sources.Events, query: pl.LazyFrame | Callable[[Materialize], pl.LazyFrame]
) -> pl.DataFrame:
    """Collect ``query`` together with the data-quality check of ``events`` (one shared scan).

    ``query`` may be a function building the query, for engines that materialize an
    intermediate table: it receives the function to materialize with, which runs the quality
    check in the same scan. Raise InputError for unparseable times or a read error; record
    dropped rows as warnings.
    """
    checked: list[dict[str, object]] = []

    def materialize(frame: pl.LazyFrame) -> pl.DataFrame:
        table, quality = pl.collect_all([frame, sources.quality(events)])
        checked.append(quality.row(0, named=True))
        sources.raise_for_quality(events, checked[0])
        return table

    with read_errors(events):
        if callable(query):
            lazy = query(materialize)
            result = lazy.collect() if checked else materialize(lazy)
        else:
            result = materialize(query)
    return result


# --- funnel ---------------------------------------------------------------------------------


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
                f"--exclude {text}: steps must satisfy 1 ≤ A < B ≤ {n} (the funnel has {n} steps)"
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
        f"--attribution: expected first, last or step:N with 1 ≤ N ≤ {n}, got {text!r}"
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
        raise UsageError(f"--window: {exc}") from None
    order = one_of(
        "--order",
        options.order or (settings.order if settings else "ordered"),
        ("ordered", "strict", "any"),
    )
    anchor = one_of(
        "--window-anchor",
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
        raise UsageError("an any-order funnel takes only whole-funnel exclusions (--exclude EVENT)")
    if order == "any" and anchor == "first":
        raise UsageError("--window-anchor first applies to ordered funnels, not --order any")
    if order != "ordered" and reuse:
        raise UsageError("--allow-event-reuse applies to ordered funnels")
    if order == "any" and increase:
        raise UsageError("--strict-increase applies to ordered and strict funnels, not --order any")
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
                "--aggregate-by"
                if col == spec.unit and col != sources.USER
                else ("--by" if col in spec.by else "a step filter")
            )
            events.require([col], what if col != sources.USER else "the unit column")


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
    report = funnel_engine.summarize(units, spec, settings)
    report = FunnelReport(
        settings=report.settings,
        steps=report.steps,
        by=report.by,
        groups=report.groups,
        excluded_units=report.excluded_units,
        source={"files": events.files},
    )
    with read_errors(events):
        events.warnings.extend(missing_step_events(events, spec, report))
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


# --- models, validation, profile -----------------------------------------------------------


def models_list() -> ModelsReport:
    """Return the built-in models with their stage chains."""
    out = []
    for name in loader.builtin_names():
        m = loader.load(name).map
        out.append(
            {
                "id": m.id,
                "name": m.name,
                "description": m.description,
                "stages": [s.name for s in m.stages],
            }
        )
    return ModelsReport(out)


def model_show(ref: str) -> ModelReport:
    """Return one model (built-in name or map file) in full."""
    m = loader.load(ref).map
    data = m.model_dump(mode="json", exclude_defaults=False)
    for stage, raw in zip(m.stages, data["stages"], strict=True):
        raw["event_names"] = stage.event_names()
        raw["metrics"] = list(stage.metrics())
    return ModelReport(data)


def validate(
    refs: Sequence[str], data: Sequence[str] = (), read: ReadOptions | None = None
) -> ValidateReport:
    """Return the problems of each map; with ``data``, also check columns and event names."""
    files: list[dict[str, Any]] = []
    for ref in refs:
        loaded, problems = loader.check(ref)
        entry: dict[str, Any] = {
            "file": loaded.display if loaded else str(ref),
            "valid": loaded is not None,
            "problems": [p.as_dict() for p in problems],
        }
        if loaded is not None and data:
            entry["problems"].extend(_data_problems(loaded, data, read or ReadOptions()))
            entry["valid"] = not any(p["severity"] == "error" for p in entry["problems"])
        files.append(entry)
    return ValidateReport(files)


def _data_problems(
    loaded: loader.LoadedMap, data: Sequence[str], read: ReadOptions
) -> list[dict[str, Any]]:
    model = loaded.map
    events = sources.read(data, read.column_map(model))
    problems: list[dict[str, Any]] = []
    where = {"file": loaded.display, "line": 1, "col": 1}
    wanted: list[tuple[str, str]] = [(s, "segments") for s in model.segments]
    for stage in model.stages:
        for opt in ("channel", "amount", "currency", "order_id", "referrer", "score"):
            value = getattr(stage, opt)
            if value:
                wanted.append((value, f"stages.{stage.id}.{opt}"))
        for m in parse_entries(stage.events):
            wanted.extend((prop, f"stages.{stage.id}.events") for prop in m.where)
    for column, key in wanted:
        if column not in events.columns:
            hint = did_you_mean(column, events.properties)
            msg = f"no column '{column}' in the data (columns: {', '.join(events.properties)})"
            problems.append(
                {
                    **where,
                    "key": key,
                    "severity": "error",
                    "message": msg + (f"; {hint}" if hint else ""),
                }
            )
    names = sorted({n for s in model.stages for n in s.event_names()})
    counts = collect_checked(
        events,
        events.clean()
        .filter(pl.col("event").is_in(names))
        .group_by("event")
        .agg(pl.len().alias("n")),
    )
    seen = dict(zip(counts["event"].to_list(), counts["n"].to_list(), strict=True))
    for stage in model.stages:
        for name in stage.event_names():
            if not seen.get(name):
                hint = did_you_mean(name, list(seen) or names)
                problems.append(
                    {
                        **where,
                        "key": f"stages.{stage.id}.events",
                        "severity": "warn",
                        "message": f"event '{name}' never occurs in the data"
                        + (f"; {hint}" if hint else ""),
                    }
                )
    return problems


def _dtype_name(dtype: pl.DataType) -> str:
    # Polars' own short form (str, i64, datetime[μs, UTC]) keeps the profile narrow.
    try:
        return str(dtype._string_repr())
    except (AttributeError, TypeError):
        return str(dtype)


def inspect(paths: sources.Source, read: ReadOptions, *, top: int = 50) -> InspectReport:
    """Return a profile of the events: rows, units, span, events and columns."""
    if isinstance(paths, str | Path):
        paths = [str(paths)]
    if (
        not isinstance(paths, pl.LazyFrame | pl.DataFrame)
        and read.preset is None
        and not (read.user_col or read.event_col or read.time_col)
    ):
        # A known export shape is read with its preset, and the profile says which it was.
        shape = reading.detect_preset(paths, read.input_format)
        read = replace(read, preset=shape) if shape else read
    events = sources.read(paths, read.column_map())
    cols = [c for c in events.columns if c != sources.RAW_TIME]
    inputs = reading.profile(events)
    frame = events.clean()
    summary = frame.select(
        pl.len().alias("rows"),
        pl.col(sources.USER).n_unique().alias("units"),
        pl.col(sources.TIME).min().alias("start"),
        pl.col(sources.TIME).max().alias("end"),
    )
    per_event = (
        frame.group_by(sources.EVENT)
        .agg(pl.len().alias("count"), pl.col(sources.USER).n_unique().alias("units"))
        .sort(["count", sources.EVENT], descending=[True, False])
    )
    raw = events.frame.drop(sources.RAW_TIME)
    nulls = raw.select([pl.col(c).null_count().alias(c) for c in cols] + [pl.len().alias("__n")])
    samples = raw.select(
        [
            pl.col(c).drop_nulls().unique(maintain_order=True).head(3).implode().alias(c)
            for c in cols
        ]
    )
    try:
        s, e, n, smp, q = pl.collect_all(
            [summary, per_event, nulls, samples, sources.quality(events)]
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"can't read the events: {sources.first_line(exc)}") from None
    sources.raise_for_quality(events, q.row(0, named=True))
    row = s.row(0, named=True)
    total = int(n["__n"][0])
    columns = [
        {
            "name": c,
            "dtype": _dtype_name(events.columns[c]),
            "null_share": (int(n[c][0]) / total) if total else None,
            "samples": [str(v) for v in smp[c][0].to_list()] if smp[c][0] is not None else [],
        }
        for c in cols
    ]
    return InspectReport(
        files=events.files,
        rows=int(row["rows"]),
        units=int(row["units"]),
        start=row["start"].isoformat() if row["start"] else None,
        end=row["end"].isoformat() if row["end"] else None,
        events=[
            {"event": r["event"], "count": int(r["count"]), "units": int(r["units"])}
            for r in e.head(top).iter_rows(named=True)
        ],
        columns=columns,
        dropped_rows=total - int(row["rows"]),
        **inputs,
    )
