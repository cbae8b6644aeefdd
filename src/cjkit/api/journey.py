"""``cjkit journey``: one unit's timeline, the stage each event filled, and why it stopped.

The unit's events are read with a filter on the unit column (pushed down to the scan), then
the funnel engine runs on them alone, so the stages and times are exactly those of ``cjkit
funnel`` (or of a model's stages). Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from cjkit.api.core import FunnelOptions, ReadOptions, _check_columns, funnel_spec, read_errors
from cjkit.canonical import EVENT, TIME, USER
from cjkit.engine.funnel.journeys import FunnelSpec, journeys
from cjkit.engine.matchers import predicate
from cjkit.errors import InputError
from cjkit.io import sources
from cjkit.maps import loader
from cjkit.report.diagnose import JourneyReport
from cjkit.timerange import parse_range


@dataclass(frozen=True)
class JourneyOptions:
    """The flags of ``cjkit journey``."""

    unit: str
    model: str | None = None
    steps: tuple[str, ...] = ()
    window: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 500
    read: ReadOptions = field(default_factory=ReadOptions)


def _when(us: int | None) -> str | None:
    if us is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))).isoformat()


def journey(paths: Sequence[str], options: JourneyOptions) -> JourneyReport:
    """Return the timeline of ``options.unit``; raise InputError when it has no events."""
    loaded = loader.load(options.model) if options.model else None
    model = options.read.adapt(loaded.map) if loaded else None
    column_map = options.read.column_map(model)
    time_range = parse_range(options.since, options.until, column_map.tz)
    fopts = FunnelOptions(
        steps=options.steps, model=options.model, window=options.window, read=options.read
    )
    spec = funnel_spec(fopts, model, time_range, USER)
    events = sources.read(paths, column_map)
    _check_columns(events, spec)
    mine = events.clean().filter(pl.col(USER).cast(pl.String) == options.unit)
    flags = [predicate(s.matchers).alias(f"_m{k}") for k, s in enumerate(spec.steps, start=1)]
    xflags = [predicate(e.matchers).alias(f"_x{j}") for j, e in enumerate(spec.exclusions)]
    with read_errors(events):
        rows = mine.select(EVENT, TIME, *flags, *xflags).sort(TIME, maintain_order=True).collect()
        table = journeys(mine, spec).collect() if rows.height else pl.DataFrame()
    if rows.height == 0:
        raise InputError(
            f"no events for unit {options.unit!r} in column '{column_map.user}'"
            + (" (check {user_col})" if column_map.user == USER else ""),
            options=("user_col",),
        )
    names = [s.name for s in spec.steps]
    unit_row = table.row(0, named=True) if table.height else None
    times = [unit_row[f"t_{k}"] if unit_row else None for k in range(1, spec.n + 1)]
    level = int(unit_row["level"]) if unit_row else 0
    timeline = _timeline(rows, spec, times)
    stages = [
        {"index": k, "name": names[k - 1], "reached": k <= level, "at": _when(times[k - 1])}
        for k in range(1, spec.n + 1)
    ]
    furthest = {"index": level, "name": names[level - 1]} if level else None
    stopped = _why(rows, spec, unit_row, level)
    settings = {
        "model": model.id if model else None,
        "window_seconds": spec.window_s,
        "order": spec.order,
        "timezone": column_map.tz,
        **time_range.as_dict(),
    }
    events_out = timeline[: options.limit]
    warnings = list(events.warnings)
    if len(timeline) > options.limit:
        warnings.append(f"showing the first {options.limit:,} of {len(timeline):,} events")
    return JourneyReport(options.unit, settings, events_out, stages, furthest, stopped, warnings)


def _timeline(
    rows: pl.DataFrame, spec: FunnelSpec, times: list[int | None]
) -> list[dict[str, Any]]:
    filled = {t: k for k, t in enumerate(times, start=1) if t is not None}
    out = []
    for r in rows.iter_rows(named=True):
        us = int(r[TIME].timestamp() * 1_000_000)
        k = filled.get(us)
        fills = k if k is not None and r[f"_m{k}"] else None
        if fills is not None:
            filled.pop(us)  # one event fills at most one step
        out.append(
            {
                "time": r[TIME].isoformat(),
                "event": r[EVENT],
                "stage": spec.steps[fills - 1].name if fills else None,
                "stage_index": fills,
                "exclusion": any(r[f"_x{j}"] for j in range(len(spec.exclusions))),
            }
        )
    return out


def _why(
    rows: pl.DataFrame, spec: FunnelSpec, unit: dict[str, Any] | None, level: int
) -> dict[str, Any] | None:
    """Return why the unit went no further: ``{reason, next_step, detail}``, or None at the end."""
    if unit is None:
        return {
            "reason": "never_entered",
            "next_step": spec.steps[0].name,
            "detail": f"no {spec.steps[0].name} event in the range",
        }
    if unit["excluded"]:
        hits = rows.filter(pl.any_horizontal([f"_x{j}" for j in range(len(spec.exclusions))]))
        event = hits[EVENT][0] if hits.height else "an exclusion event"
        at = hits[TIME][0].isoformat() if hits.height else None
        return {
            "reason": "excluded",
            "next_step": None,
            "detail": f"excluded by {event}" + (f" at {at}" if at else ""),
        }
    if level >= spec.n:
        return None
    nxt = spec.steps[level]
    last = unit[f"t_{level}"]
    start = unit["t_1"]
    after = rows.filter(pl.col(f"_m{level + 1}") & (pl.col(TIME).dt.epoch("us") >= last))
    ends = _when(start + spec.window_s * 1_000_000)
    if after.height == 0:
        return {
            "reason": "no_next_event",
            "next_step": nxt.name,
            "detail": f"no {nxt.name} event after reaching {spec.steps[level - 1].name}",
        }
    first = after[TIME][0].isoformat()
    if int(after[TIME][0].timestamp() * 1_000_000) <= start + spec.window_s * 1_000_000:
        # Inside the window yet unused: the order mode ruled it out (strict: another event came
        # between; or it shared the previous step's event).
        return {
            "reason": "order",
            "next_step": nxt.name,
            "detail": f"the {nxt.name} event at {first} does not follow in {spec.order} order",
        }
    return {
        "reason": "window_ran_out",
        "next_step": nxt.name,
        "detail": f"the window ran out on {ends}; the next {nxt.name} event came at {first}",
    }
