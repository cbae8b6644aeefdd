"""Library entry points for ``cjkit metrics`` (every stage of a model) and ``cjkit check``.

:func:`metrics` reads the events once: the columns and rows the model needs are collected
together with the data-quality check, then every stage's queries (funnel, per-unit facts,
revenue tables, retention cohorts) are collected in one ``pl.collect_all`` over that table.
:func:`check` evaluates a map's targets on the same report, and against a baseline run.
Nothing here prints.

>>> from cjkit import api_metrics
>>> report = api_metrics.metrics(["events.parquet"], api_metrics.MetricsOptions(model="aarrr"))
... # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import polars as pl

from cjkit import kinds as kind_registry
from cjkit.api.checks import missing_events, report_missing
from cjkit.api.core import FunnelOptions, ReadOptions, funnel_spec, read_errors
from cjkit.engine import passes as memory
from cjkit.engine import periods as per
from cjkit.engine.metrics import combine as metrics_combine
from cjkit.engine.metrics import plan as metrics_plan
from cjkit.engine.metrics import query as metrics_query
from cjkit.engine.metrics import summary as metrics_summary
from cjkit.engine.metrics.base import Context
from cjkit.engine.metrics.kinds.acquisition import SPEND_AMOUNT, SPEND_CHANNEL, SPEND_DATE, Spend
from cjkit.errors import InputError, UsageError, did_you_mean, one_of
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.maps.schema import JourneyMap, SpendSpec
from cjkit.report.metrics import CheckReport, CheckResult, MetricsReport
from cjkit.timerange import parse_range


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


@dataclass(frozen=True)
class CheckOptions:
    """The flags of ``cjkit check``."""

    model: str
    baseline: str | None = None
    since: str | None = None
    until: str | None = None
    spend: str | None = None
    strict: bool = False
    read: ReadOptions = field(default_factory=ReadOptions)


# --- spend ----------------------------------------------------------------------------------


def read_spend(path: Path, spec: SpendSpec, shown: str | None = None) -> Spend:
    """Return the spend file as (date, channel, amount); raise InputError naming what is wrong."""
    name = shown or str(path)
    if not path.is_file():
        raise InputError(f"spend file {name}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema_length=10_000, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"spend file {name}: can't read it: {sources.first_line(exc)}") from None
    for role, column in (("date", spec.date), ("channel", spec.channel), ("amount", spec.amount)):
        if column not in frame.columns:
            raise InputError(
                f"spend file {name} has no {role} column '{column}' "
                f"(columns: {', '.join(frame.columns) or 'none'})",
                hint=did_you_mean(column, frame.columns),
            )
    table = pl.DataFrame(
        {
            SPEND_DATE: _spend_dates(frame, spec.date, name),
            SPEND_CHANNEL: frame[spec.channel].cast(pl.String),
            SPEND_AMOUNT: _spend_amounts(frame, spec.amount, name),
        }
    )
    return Spend(table, name)


def _spend_dates(frame: pl.DataFrame, column: str, name: str) -> pl.Series:
    col = frame[column]
    if col.dtype == pl.Date:
        return col
    if isinstance(col.dtype, pl.Datetime):
        return col.dt.date()
    text = col.cast(pl.String).str.strip_chars()
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    bad = text.filter(text.is_not_null() & parsed.is_null())
    if bad.len():
        raise InputError(
            f"spend file {name}: can't read {bad[0]!r} in column '{column}' as a date "
            "(expected 2025-01-31)"
        )
    return parsed


def _spend_amounts(frame: pl.DataFrame, column: str, name: str) -> pl.Series:
    col = frame[column]
    if col.dtype.is_numeric() or col.dtype == pl.Null:
        return col.cast(pl.Float64)
    text = col.cast(pl.String).str.strip_chars()
    parsed = text.cast(pl.Float64, strict=False)
    bad = text.filter(text.is_not_null() & parsed.is_null())
    if bad.len():
        raise InputError(
            f"spend file {name}: column '{column}' holds {bad[0]!r}, expected a number "
            "(no currency signs or thousands separators)"
        )
    return parsed


def _spend(options: MetricsOptions, loaded: loader.LoadedMap) -> Spend | None:
    if options.spend:
        return read_spend(Path(options.spend), SpendSpec(path=options.spend), options.spend)
    spec = loaded.map.spend
    if spec is None:
        return None
    path = Path(spec.path)
    full = path if path.is_absolute() else loaded.base_dir / path
    return read_spend(full, spec, loader.display_path(full))


# --- metrics --------------------------------------------------------------------------------

_ALIAS = re.compile(r"^(period|day|week|month|quarter)_(\d+)$")
# Funnel numbers sit at the top of a stage's JSON; every other metric under ``metrics``.
_TOP_LEVEL = tuple(m.name for m in kind_registry.FUNNEL if m.name != "median_time_to_convert_s")


def _target_periods(model: JourneyMap) -> dict[str, int]:
    """Return, per retention stage, the deepest period a target asks for (week_12 → 12)."""
    out: dict[str, int] = {}
    for target in model.targets:
        stage_id, _, name = target.metric.partition(".")
        match = _ALIAS.match(name)
        if match:
            out[stage_id] = max(out.get(stage_id, 0), int(match.group(2)))
    return out


def _require(events: sources.Events, plan: metrics_plan.MetricsPlan, by_flag: str) -> None:
    events.require(list(plan.segments), by_flag)
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


def _run(
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
        per.Period, one_of("--period", options.period or model.settings.period, per.PERIODS)
    )
    spend = _spend(options, loaded)
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
    _require(events, plan, "--by" if options.by else "segments")
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
    if top is None or not plan.segments:
        return table, plan, []
    if top < 1:
        raise UsageError(f"--top: expected a whole number of at least 1, got {top}")
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
    report, _, _ = _run(paths, options, breakdowns=options.breakdowns)
    return report


def metrics_frames(
    paths: Sequence[str], options: MetricsOptions, extra: ExtraQueries | None = None
) -> tuple[MetricsReport, dict[str, pl.DataFrame]]:
    """Return the metrics report and the collected tables behind it (``journeys``: the funnel's
    per-unit table; plus ``extra``'s queries over the clean events, run in the same scan)."""
    report, _, frames = _run(paths, options, breakdowns=options.breakdowns, extra=extra)
    return report, frames


# --- check ----------------------------------------------------------------------------------


def _stage_dicts(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stages = doc.get("stages")
    if not isinstance(stages, list):
        return {}
    return {s["id"]: s for s in stages if isinstance(s, dict) and "id" in s}


def lookup(stages: dict[str, dict[str, Any]], metric: str) -> tuple[float | None, str | None]:
    """Return (the value of ``stage.metric`` in a metrics JSON's stages, why there is none).

    Retention aliases (``week_4``) resolve to ``period_4`` when the stage's period matches.
    A money metric reported per currency is one number only when there is one currency.
    """
    stage_id, _, name = metric.partition(".")
    stage = stages.get(stage_id)
    if stage is None:
        return None, f"no stage '{stage_id}' in the report"
    alias = _ALIAS.match(name)
    if stage.get("kind") == "retention" and alias and alias.group(1) != "period":
        period = (stage.get("detail") or {}).get("period")
        if alias.group(1) != period:
            return None, (
                f"{metric}: the stage's period is {period}, so {name} is undefined "
                f"(say period_{alias.group(2)} or {period}_{alias.group(2)})"
            )
        name = f"period_{alias.group(2)}"
    if name in _TOP_LEVEL:
        value = stage.get(name)
    elif name in (stage.get("metrics") or {}):
        value = stage["metrics"][name]
    else:
        spec = kind_registry.REGISTRY.get(str(stage.get("kind")))
        known = [*_TOP_LEVEL, *(stage.get("metrics") or {}), *(spec.metric_names() if spec else ())]
        hint = did_you_mean(name, list(dict.fromkeys(known)))
        return None, f"stage '{stage_id}' reports no metric '{name}'" + (
            f"; {hint}" if hint else ""
        )
    if isinstance(value, dict):
        if len(value) == 1:
            value = next(iter(value.values()))
        elif not value:
            return None, f"{metric} has no value: the stage has no amounts in the range"
        else:
            return None, (
                f"{metric} is reported per currency ({', '.join(value)}), and a target needs "
                "one number: filter the stage to one currency, e.g. "
                "events: [{name: purchase, where: {currency: USD}}]"
            )
    if value is None:
        return None, None
    number = float(value)
    return (None, None) if math.isnan(number) else (number, None)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _evaluate_one(
    target: Any,
    line: int,
    stages: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]] | None,
) -> CheckResult:
    actual, problem = lookup(stages, target.metric)
    base_value: float | None = None
    fails: list[str] = []
    notes: list[str] = []
    regression = target.max_drop is not None or target.max_drop_pct is not None
    if problem:
        fails.append(problem)
    elif actual is None:
        fails.append(
            f"{target.metric} has no value: its denominator is 0 (nothing to measure in the range)"
        )
    else:
        if target.min is not None and actual < target.min:
            fails.append(
                f"{target.metric} = {_fmt(actual)} is below the minimum {_fmt(target.min)}"
            )
        if target.max is not None and actual > target.max:
            fails.append(
                f"{target.metric} = {_fmt(actual)} is above the maximum {_fmt(target.max)}"
            )
        if regression:
            if baseline is None:
                notes.append("regression bound not checked: no --baseline given")
            else:
                base_value, why = lookup(baseline, target.metric)
                if base_value is None:
                    notes.append(
                        f"regression bound not checked: the baseline has no value ({why or 'null'})"
                    )
                else:
                    fails.extend(_drops(target, actual, base_value))
    if fails:
        status, message = "fail", "; ".join(fails)
    elif regression and notes and target.min is None and target.max is None:
        status, message = "skip", "; ".join(notes)
    else:
        status = "pass"
        message = "; ".join([f"{target.metric} = {_fmt(actual or 0.0)}", *notes])
    return CheckResult(
        metric=target.metric,
        severity=target.severity,
        line=line,
        actual=actual,
        status=status,
        message=message,
        min=target.min,
        max=target.max,
        max_drop=target.max_drop,
        max_drop_pct=target.max_drop_pct,
        baseline=base_value,
    )


def _drops(target: Any, actual: float, base: float) -> list[str]:
    fails = []
    drop = base - actual
    # A tolerance of a few ulps: 0.30 − 0.28 must not fail a max_drop of 0.02.
    eps = 1e-9 * max(1.0, abs(base))
    if target.max_drop is not None and drop > target.max_drop + eps:
        fails.append(
            f"{target.metric} fell by {_fmt(drop)} from {_fmt(base)} (baseline) to "
            f"{_fmt(actual)}, more than {_fmt(target.max_drop)}"
        )
    if target.max_drop_pct is not None:
        if base <= 0:
            if drop > eps:
                fails.append(
                    f"{target.metric} fell from {_fmt(base)} (baseline) to {_fmt(actual)}; "
                    "a drop in percent is undefined for a baseline ≤ 0"
                )
        else:
            pct = drop / base * 100
            if pct > target.max_drop_pct + 1e-9:
                fails.append(
                    f"{target.metric} fell by {pct:.1f}% from {_fmt(base)} (baseline) to "
                    f"{_fmt(actual)}, more than {_fmt(target.max_drop_pct)}%"
                )
    return fails


def evaluate(
    report: MetricsReport, loaded: loader.LoadedMap, baseline: dict[str, Any] | None
) -> list[CheckResult]:
    """Return every target of the map evaluated on ``report`` (and a baseline metrics JSON)."""
    current = {s.id: s.to_dict() for s in report.stages}
    base = _stage_dicts(baseline) if baseline is not None else None
    lines = loaded.target_lines
    return [
        _evaluate_one(t, lines[i] if i < len(lines) else 1, current, base)
        for i, t in enumerate(loaded.map.targets)
    ]


def read_baseline(path: str) -> dict[str, Any]:
    """Return a metrics JSON from an earlier run; raise InputError when it isn't one."""
    file = Path(path)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--baseline {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--baseline {path}: can't read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--baseline {path}: not JSON (line {exc.lineno}: {exc.msg}); "
            "expected the output of cjkit metrics --format json"
        ) from None
    if not isinstance(doc, dict) or doc.get("kind") != "metrics":
        kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(
            f"--baseline {path}: expected the JSON of 'cjkit metrics --format json', "
            f"got kind {kind!r}"
        )
    return doc


def check(paths: Sequence[str], options: CheckOptions) -> CheckReport:
    """Return the map's targets evaluated on the events under ``paths``."""
    baseline = read_baseline(options.baseline) if options.baseline else None
    report, loaded, _ = _run(
        paths,
        MetricsOptions(
            model=options.model,
            since=options.since,
            until=options.until,
            spend=options.spend,
            read=options.read,
        ),
        breakdowns=False,
    )
    warnings = list(report.warnings)
    if not loaded.map.targets:
        warnings.append(f"{loaded.display}: the map has no targets; nothing to check")
    if baseline is not None and (baseline.get("model") or {}).get("id") != loaded.map.id:
        warnings.append(
            f"--baseline {options.baseline} was made with model "
            f"'{(baseline.get('model') or {}).get('id')}', not '{loaded.map.id}'"
        )
    return CheckReport(
        model=report.model,
        map_file=loaded.display,
        baseline=options.baseline,
        source=report.source,
        checks=evaluate(report, loaded, baseline),
        strict=options.strict,
        warnings=warnings,
    )
