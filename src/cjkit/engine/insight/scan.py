"""One scan of the events for every range an insight needs (the current and compared periods,
the trend), so ``--compare`` never reads the events twice.

The step events are prepared once (``journeys.prepare``) with the widest range's end; each
range's per-unit table is then cut from that table (``journeys.journeys_from``). With several
passes over disjoint sets of units (inputs beyond memory) every pass does the same and the
per-unit tables and trend counts are concatenated (they add up: no unit is in two passes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import polars as pl

from cjkit.canonical import Period, WeekStart
from cjkit.engine.funnel.journeys import FunnelSpec, collect_scan, journeys_from, prepare
from cjkit.engine.insight import trend as trend_engine
from cjkit.engine.passes import split_units
from cjkit.timerange import TimeRange


@dataclass(frozen=True)
class TrendSpec:
    """The calendar a trend is cut in."""

    period: Period
    tz: str
    week_start: WeekStart


@dataclass(frozen=True)
class Scanned:
    """Per range name, its journey table; and the trend counts of the ``now`` range."""

    units: dict[str, pl.DataFrame]
    trend: pl.DataFrame | None


def widest(ranges: Mapping[str, TimeRange]) -> TimeRange:
    """Return the range that covers all of ``ranges`` (an open end stays open)."""
    sinces = [r.since for r in ranges.values()]
    untils = [r.until for r in ranges.values()]
    return TimeRange(
        None if any(s is None for s in sinces) else min(s for s in sinces if s is not None),
        None if any(u is None for u in untils) else max(u for u in untils if u is not None),
    )


def scan(
    events: pl.LazyFrame,
    spec: FunnelSpec,
    ranges: Callable[[], Mapping[str, TimeRange]],
    cover: TimeRange,
    *,
    materialize: Callable[[pl.LazyFrame], pl.DataFrame] = collect_scan,
    passes: int = 1,
    trend: TrendSpec | None = None,
) -> Scanned:
    """Return the journey table of every named range, from one read of ``events``.

    ``cover`` bounds what is prepared (its ``until`` narrows the scan); ``ranges`` is called
    after the first materialization, so it may depend on what the scan found (the data's end).
    """
    prepared_spec = replace(spec, since=cover.since, until=cover.until)
    tables: dict[str, list[pl.DataFrame]] = {}
    counts: list[pl.DataFrame] = []
    for i, part in enumerate(split_units(events, spec.unit, passes)):
        table = prepare(part, prepared_spec, materialize if i == 0 else collect_scan)
        named = ranges()
        for name, rng in named.items():
            one = replace(spec, since=rng.since, until=rng.until)
            tables.setdefault(name, []).append(journeys_from(table, one).collect())
        if trend is not None:
            now = named["now"]
            counts.append(
                trend_engine.trend_counts(
                    table,
                    replace(spec, since=now.since, until=now.until),
                    trend.period,
                    trend.tz,
                    trend.week_start,
                )
            )
        del table
    units = {
        name: pl.concat(parts) if len(parts) > 1 else parts[0] for name, parts in tables.items()
    }
    merged = (counts[0] if len(counts) == 1 else trend_engine.merge(counts)) if counts else None
    return Scanned(units, merged)
