"""Library entry points for cohort analyses: retention, lifecycle and stickiness.

Each function reads the events lazily, builds one query, collects it once together with the
data-quality check (:func:`cjkit.api.collect_checked`) and returns a report from
:mod:`cjkit.report_cohorts`. Nothing here prints. For example, monthly repeat-purchase
retention of first-time buyers::

    options = RetentionOptions(start_event="purchase", return_event="purchase",
                               period="month", cohort="first-time")
    report = retention(["events.parquet"], options)
    report.average.rates        # [1.0, r1, r2, …], complete periods only
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import polars as pl

from cjkit.api.checks import missing_events, report_missing
from cjkit.api.core import ReadOptions, collect_checked, read_errors
from cjkit.engine import passes as memory
from cjkit.engine import periods as per
from cjkit.engine.cohorts import lifecycle as lifecycle_engine
from cjkit.engine.cohorts import masks
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.matchers import Matcher, parse_cli_step
from cjkit.errors import UsageError, one_of
from cjkit.io import sources
from cjkit.report.cohorts import LifecycleReport, RetentionReport, StickinessReport
from cjkit.timerange import TimeRange, parse_range

ANY = "*"
COHORTS = ("recurring", "first-time")
NEW_BASES = ("event", "first-any-event")
ACTIVITY_PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class RetentionOptions:
    """The flags of ``cjkit retention``."""

    start_event: str = ANY
    return_event: str = ANY
    period: str = "week"
    periods: int = 8
    cohort: str = "recurring"
    cumulative: bool = False
    week_start: str = "monday"
    since: str | None = None
    until: str | None = None
    by: tuple[str, ...] = ()
    read: ReadOptions = field(default_factory=ReadOptions)
    compare: str | None = None  # --compare previous|A..B (cjkit.api.compare)
    alpha: float = 0.05
    # --top: keep the N values of --by with the most units, the rest as one (other) group
    # (tables default to cjkit.report.folding.TABLE_TOP); None keeps every value.
    top: int | None = None


@dataclass(frozen=True)
class ActivityOptions:
    """The flags of ``cjkit lifecycle`` and ``cjkit stickiness``."""

    event: str = ANY
    period: str = "week"
    week_start: str = "monday"
    since: str | None = None
    until: str | None = None
    new_basis: str = "event"
    read: ReadOptions = field(default_factory=ReadOptions)


def _matchers(flag: str, text: str) -> tuple[Matcher, ...] | None:
    """Return the matchers of an event flag, or None for ``*`` (any event)."""
    text = text.strip()
    if text == ANY:
        return None
    try:
        return tuple(parse_cli_step(text))
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _require(events: sources.Events, matchers: tuple[Matcher, ...] | None, flag: str) -> None:
    for m in matchers or ():
        events.require(m.properties(), flag)


def _label(matchers: tuple[Matcher, ...] | None, text: str) -> str:
    return ANY if matchers is None else text.strip()


def retention_spec(
    options: RetentionOptions, tz: str, time_range: TimeRange
) -> retention_engine.RetentionSpec:
    """Return the engine spec of the flags; raise UsageError for a bad value."""
    period = one_of("--period", options.period, per.PERIODS)
    cohort = one_of("--cohort", options.cohort, COHORTS)
    week_start = one_of("--week-start", options.week_start, per.WEEK_STARTS)
    if not 1 <= options.periods <= retention_engine.MAX_PERIODS:
        raise UsageError(
            f"--periods: expected a whole number from 1 to {retention_engine.MAX_PERIODS}, "
            f"got {options.periods}"
        )
    return retention_engine.RetentionSpec(
        start=_matchers("--start-event", options.start_event),
        returns=_matchers("--return-event", options.return_event),
        period=cast(per.Period, period),
        periods=options.periods,
        cohort=cast(retention_engine.CohortMode, cohort),
        cumulative=options.cumulative,
        week_start=cast(per.WeekStart, week_start),
        tz=tz,
        since=time_range.since,
        until=time_range.until,
        by=tuple(options.by),
    )


def retention(paths: Sequence[str], options: RetentionOptions) -> RetentionReport:
    """Return the cohort retention report of the events under ``paths``."""
    if options.compare:
        from cjkit.api.compare import retention_compare

        return retention_compare(paths, options, options.compare, options.alpha)  # type: ignore[no-any-return]
    column_map = options.read.column_map()
    time_range = parse_range(options.since, options.until, column_map.tz)
    spec = retention_spec(options, column_map.tz, time_range)
    events = sources.read(paths, column_map)
    _require(events, spec.start, "--start-event")
    _require(events, spec.returns, "--return-event")
    events.require(list(spec.by), "--by")
    folded = _fold(events, spec, options.top)
    frames = _retention_frames(events, spec)
    settings: dict[str, Any] = {
        "start_event": _label(spec.start, options.start_event),
        "return_event": _label(spec.returns, options.return_event),
        "period": spec.period,
        "periods": spec.periods,
        "cohort": spec.cohort,
        "cumulative": spec.cumulative,
        "week_start": spec.week_start,
        "timezone": spec.tz,
        **time_range.as_dict(),
    }
    report = retention_engine.retention_report(frames, spec, settings)
    _unknown_events(
        events,
        report.warnings,
        {"start": spec.start, "return": spec.returns},
        strict=options.read.strict,
    )
    if folded is not None:
        report = replace(report, extra={**report.extra, "breakdown_other": folded.to_dict()})
    return replace(
        report, source={"files": events.files}, warnings=[*events.warnings, *report.warnings]
    )


def _fold(events: sources.Events, spec: retention_engine.RetentionSpec, top: int | None) -> Any:
    """Fold the --by values of ``events`` outside the ``top`` with the most units into
    ``(other)`` (in place, before anything is counted); return what was folded, or None."""
    if top is not None and top < 1:  # checked with or without a breakdown to fold
        raise UsageError(f"top: expected a whole number of at least 1, got {top}", option="top")
    if top is None or not spec.by:
        return None
    from cjkit.engine.insight import segments

    unit = pl.col(spec.unit)
    with read_errors(events):
        events.frame, folded = segments.fold_values(
            events.frame, spec.by, top, size=unit.n_unique(), where=unit.is_not_null()
        )
    return folded


def _retention_frames(
    events: sources.Events, spec: retention_engine.RetentionSpec
) -> dict[str, pl.DataFrame]:
    """Return the collected parts of the retention query, in passes over disjoint sets of units
    when the input is too big for memory in one (the counts of the passes add up)."""
    with read_errors(events):
        passes = memory.passes_for(
            events.estimated_rows(), bytes_per_event=memory.RETENTION_BYTES_PER_EVENT
        )
    clean = events.clean()
    # Short period ranges take the per-unit bit-mask plan, which needs the range before
    # planning. The data-quality check runs with that scan of the time column (in one collect
    # it adds about a quarter of the check's cost; on its own the scan costs 1.5 checks).
    span = collect_checked(events, masks.period_span(clean, spec)).row(0)
    use_masks = masks.applies(spec, span)
    collected = []
    for part in memory.split_units(clean, spec.unit, passes):
        parts = (
            masks.mask_query(part, spec, span[0], span[1] - span[0] + 1)
            if use_masks
            else retention_engine.retention_query(part, spec)
        )
        with read_errors(events):
            packed = retention_engine.pack(parts).collect()
        collected.append(retention_engine.unpack(packed))
    return retention_engine.combine(collected)


def _unknown_events(
    events: sources.Events,
    warnings: list[str],
    flags: dict[str, tuple[Matcher, ...] | None],
    *,
    strict: bool,
) -> None:
    """Add a did-you-mean warning (an error under ``strict``) for each event of ``flags``
    (``{"start": matchers, "return": …}``; ``{"": …}`` for ``--event``) that never occurs,
    in place of the engine's ``no … event (…) in the data range``. Only runs when the engine
    found no such event in the range, so an ordinary run reads nothing more."""
    missing: list[str] = []
    for role, matchers in flags.items():
        empty = f"no {role} event (" if role else "no event ("
        if matchers and any(w.startswith(empty) for w in warnings):
            with read_errors(events):
                found = missing_events(
                    events, [(m.name, m.name) for m in matchers], role or "activity"
                )
            if found:  # it never occurs at all: say so, with the closest name
                warnings[:] = [w for w in warnings if not w.startswith(empty)]
            missing += found
    report_missing(warnings, missing, strict=strict)


def activity_spec(
    options: ActivityOptions, tz: str, time_range: TimeRange
) -> lifecycle_engine.ActivitySpec:
    """Return the engine spec of the lifecycle/stickiness flags; raise UsageError."""
    period = one_of("--period", options.period, ACTIVITY_PERIODS)
    week_start = one_of("--week-start", options.week_start, per.WEEK_STARTS)
    new_basis = one_of("--new-basis", options.new_basis, NEW_BASES)
    return lifecycle_engine.ActivitySpec(
        event=_matchers("--event", options.event),
        period=cast(per.Period, period),
        week_start=cast(per.WeekStart, week_start),
        tz=tz,
        since=time_range.since,
        until=time_range.until,
        new_basis=cast(lifecycle_engine.NewBasis, new_basis),
    )


def _activity(
    paths: Sequence[str], options: ActivityOptions
) -> tuple[lifecycle_engine.ActivitySpec, sources.Events, dict[str, Any]]:
    column_map = options.read.column_map()
    time_range = parse_range(options.since, options.until, column_map.tz)
    spec = activity_spec(options, column_map.tz, time_range)
    events = sources.read(paths, column_map)
    _require(events, spec.event, "--event")
    settings: dict[str, Any] = {
        "event": _label(spec.event, options.event),
        "period": spec.period,
        "week_start": spec.week_start,
        "timezone": spec.tz,
        **time_range.as_dict(),
    }
    return spec, events, settings


def lifecycle(paths: Sequence[str], options: ActivityOptions) -> LifecycleReport:
    """Return the lifecycle report (new, returning, resurrecting, dormant per period)."""
    spec, events, settings = _activity(paths, options)
    parts = lifecycle_engine.lifecycle_query(events.clean(), spec)
    frames = retention_engine.unpack(collect_checked(events, retention_engine.pack(parts)))
    report = lifecycle_engine.lifecycle_report(
        frames, spec, {**settings, "new_basis": spec.new_basis}
    )
    _unknown_events(events, report.warnings, {"": spec.event}, strict=options.read.strict)
    return replace(
        report, source={"files": events.files}, warnings=[*events.warnings, *report.warnings]
    )


def stickiness(paths: Sequence[str], options: ActivityOptions) -> StickinessReport:
    """Return the stickiness report (units active in exactly n periods of the range)."""
    spec, events, settings = _activity(paths, options)
    parts = lifecycle_engine.stickiness_query(events.clean(), spec)
    frames = retention_engine.unpack(collect_checked(events, retention_engine.pack(parts)))
    report = lifecycle_engine.stickiness_report(frames, spec, settings)
    _unknown_events(events, report.warnings, {"": spec.event}, strict=options.read.strict)
    return replace(
        report, source={"files": events.files}, warnings=[*events.warnings, *report.warnings]
    )
