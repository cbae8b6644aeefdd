"""Lifecycle (new, returning, resurrecting, dormant) and stickiness over calendar periods.

Semantics (docs/metrics.md, "Cohort metrics"): a unit is *active* in a period when it did the chosen
event there (any event by default).

* Lifecycle, per period P: ``new`` = active, and the unit's first-ever chosen event (over the
  whole file, ``--since`` ignored) falls in P — or its first event of any kind, with
  ``new_basis="first-any-event"``; ``returning`` = active in P and P−1; ``resurrecting`` =
  active in P, not in P−1, not new; ``dormant`` = −(active in P−1, not in P). Hence
  ``active(P) = new + returning + resurrecting`` and ``active(P−1) = returning − dormant``.
* Stickiness: over the P periods of the range, the units active in exactly n periods, n = 1..P.

Interface, as for retention: :func:`lifecycle_query` / :func:`stickiness_query` return lazy
parts (``dict[str, pl.LazyFrame]``) for one collect; :func:`lifecycle_report` /
:func:`stickiness_report` turn the collected parts into reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import polars as pl

from cjkit.canonical import EVENT, ONE_US, TIME, USER, Period, WeekStart
from cjkit.engine import periods as per
from cjkit.engine.cohorts.retention import next_adjacent, prev_adjacent, sort_by_unit
from cjkit.engine.matchers import Matcher, predicate
from cjkit.report.cohorts import LifecyclePeriod, LifecycleReport, StickinessReport

NewBasis = Literal["event", "first-any-event"]


@dataclass(frozen=True)
class ActivitySpec:
    """What counts as activity, how periods are cut, and the range (UTC instants, inclusive)."""

    event: tuple[Matcher, ...] | None = None
    period: Period = "week"
    week_start: WeekStart = "monday"
    tz: str = "UTC"
    since: datetime | None = None
    until: datetime | None = None
    new_basis: NewBasis = "event"
    unit: str = USER

    def columns(self) -> list[str]:
        """Return the event columns the query reads."""
        cols = [self.unit, EVENT, TIME]
        for m in self.event or ():
            cols.extend(m.properties())
        return list(dict.fromkeys(cols))

    def index(self, moment: datetime) -> int:
        """Return the index of the period holding ``moment``."""
        return per.index_of(moment, self.period, self.tz, self.week_start)


def _unit_periods(events: pl.LazyFrame, spec: ActivitySpec, *, whole_history: bool) -> pl.LazyFrame:
    """Return one row per (unit, period) with any event: ``a`` (active), ``tmax``."""
    frame = events
    if spec.until is not None:
        frame = frame.filter(pl.col(TIME) <= spec.until)
    if spec.since is not None and not whole_history:
        # One period before --since is enough to know who was active "before".
        lower = per.start_of(spec.index(spec.since) - 1, spec.period, spec.tz, spec.week_start)
        frame = frame.filter(pl.col(TIME) >= lower)
    active = pl.lit(value=True) if spec.event is None else predicate(spec.event)
    return (
        frame.select(
            pl.col(spec.unit).alias(USER),
            pl.col(TIME),
            per.period_index(pl.col(TIME), spec.period, spec.tz, spec.week_start).alias("p"),
            active.alias("a"),
        )
        .group_by(USER, "p")
        .agg(pl.col("a").any(), pl.col(TIME).max().alias("tmax"))
    )


def _bounds(up: pl.LazyFrame, spec: ActivitySpec) -> pl.LazyFrame:
    """Return one row: the range [lo, hi] and ``end`` (periods ``< end`` are complete)."""
    idx = pl.Int32
    last = pl.col("tmax").max()
    if spec.until is not None:
        hi: pl.Expr = pl.lit(spec.index(spec.until), idx)
        end: pl.Expr = pl.lit(spec.index(spec.until + ONE_US), idx)
    else:
        hi = per.period_index(last, spec.period, spec.tz, spec.week_start)
        end = per.period_index(
            last + pl.duration(microseconds=1), spec.period, spec.tz, spec.week_start
        )
    lo: pl.Expr = (
        pl.lit(spec.index(spec.since), idx)
        if spec.since is not None
        else pl.col("p").filter(pl.col("a")).min()
    )
    return up.select(
        lo.cast(idx).alias("lo"),
        hi.cast(idx).alias("hi"),
        end.cast(idx).alias("end"),
        pl.col("a").sum().cast(pl.Int64).alias("active_rows"),
    )


def _warnings(bounds: pl.DataFrame, settings: dict[str, Any]) -> list[str]:
    rows = bounds["active_rows"][0] if bounds.height else None
    return [] if rows else [f"no event ({settings.get('event', '?')}) in the data range"]


def lifecycle_query(events: pl.LazyFrame, spec: ActivitySpec) -> dict[str, pl.LazyFrame]:
    """Return the lazy parts: ``bounds`` (one row) and ``states`` (one row per period)."""
    up = _unit_periods(events, spec, whole_history=True).cache()
    bounds = _bounds(up, spec)
    # Sorted by unit and period, "active the period before" is the previous row, and a unit's
    # first period is its first row: no joins.
    basis = up if spec.new_basis == "first-any-event" else up.filter(pl.col("a"))
    starts = (pl.col("uid").shift(1) != pl.col("uid")).fill_null(value=True)
    active = (
        sort_by_unit(basis.select(USER, "p", "a"))
        .with_columns(pl.when(starts).then(pl.col("p")).forward_fill().alias("first"))
        .filter(pl.col("a"))
        .with_columns(
            prev_adjacent().alias("prev"),
            next_adjacent().alias("next"),
            (pl.col("first") == pl.col("p")).alias("new"),
        )
        .cache()
    )
    current = active.group_by("p").agg(
        pl.col("new").sum().cast(pl.Int64),
        pl.col("prev").sum().cast(pl.Int64).alias("returning"),
        (~pl.col("prev") & ~pl.col("new")).sum().cast(pl.Int64).alias("resurrecting"),
    )
    # A unit active in P and not in P+1 is dormant in P+1.
    dormant = (
        active.filter(~pl.col("next"))
        .group_by((pl.col("p") + 1).alias("p"))
        .agg((-pl.len().cast(pl.Int64)).alias("dormant"))
    )
    # Periods with something to count; the report lays them on its grid of lo..hi.
    states = (
        pl.concat([current.select("p"), dormant.select("p")])
        .unique()
        .join(current, on="p", how="left")
        .join(dormant, on="p", how="left")
        .with_columns(pl.col("new", "returning", "resurrecting", "dormant").fill_null(0))
        .sort("p")
    )
    return {"bounds": bounds, "states": states}


def _states_on_grid(
    frames: dict[str, pl.DataFrame], spec: ActivitySpec
) -> tuple[pl.DataFrame, list[str]]:
    """Return the lifecycle rows of the periods lo..hi (zeros where nothing happened), and
    the warning of a sparse grid (:func:`cjkit.engine.periods.grid`)."""
    bounds = frames["bounds"].row(0, named=True) if frames["bounds"].height else {}
    lo, hi = bounds.get("lo"), bounds.get("hi")
    lo_i = int(lo) if lo is not None else None
    hi_i = int(hi) if hi is not None else None
    states = frames["states"].with_columns(pl.col("p").cast(pl.Int32))
    periods, sparse = per.grid(lo_i, hi_i, states["p"])
    counts = ["new", "returning", "resurrecting", "dormant"]
    table = (
        periods.to_frame()
        .join(states, on="p", how="left")
        .with_columns(pl.col(counts).fill_null(0))
        .with_columns(per.index_start(pl.col("p"), spec.period, spec.week_start).alias("period"))
        .sort("p")
    )
    warnings = []
    if sparse and lo_i is not None and hi_i is not None:
        warnings.append(per.sparse_warning(lo_i, hi_i, table.height, spec.period))
    return table, warnings


def lifecycle_report(
    frames: dict[str, pl.DataFrame], spec: ActivitySpec, settings: dict[str, Any]
) -> LifecycleReport:
    """Return the lifecycle report from the collected parts of :func:`lifecycle_query`."""
    end = _end(frames["bounds"])
    states, grid_warnings = _states_on_grid(frames, spec)
    return LifecycleReport(
        settings=settings,
        warnings=_warnings(frames["bounds"], settings) + grid_warnings,
        periods=[
            LifecyclePeriod(
                period=r["period"].isoformat(),
                complete=int(r["p"]) < end,
                new=int(r["new"]),
                returning=int(r["returning"]),
                resurrecting=int(r["resurrecting"]),
                dormant=int(r["dormant"]),
            )
            for r in states.iter_rows(named=True)
        ],
    )


def stickiness_query(events: pl.LazyFrame, spec: ActivitySpec) -> dict[str, pl.LazyFrame]:
    """Return the lazy parts: ``bounds`` (one row) and ``counts`` (units per n active periods)."""
    up = _unit_periods(events, spec, whole_history=False).cache()
    bounds = _bounds(up, spec)
    per_unit = (
        up.filter(pl.col("a"))
        .join(bounds.select("lo", "hi"), how="cross")
        .filter(pl.col("p").is_between(pl.col("lo"), pl.col("hi")))
        .group_by(USER)
        .agg(pl.len().cast(pl.Int64).alias("n"))
    )
    counts = per_unit.group_by("n").agg(pl.len().cast(pl.Int64).alias("units"))
    return {"bounds": bounds, "counts": counts}


def stickiness_report(
    frames: dict[str, pl.DataFrame], spec: ActivitySpec, settings: dict[str, Any]
) -> StickinessReport:
    """Return the stickiness report from the collected parts of :func:`stickiness_query`."""
    bounds = frames["bounds"].row(0, named=True) if frames["bounds"].height else {}
    lo, hi = bounds.get("lo"), bounds.get("hi")
    total = max(0, int(hi) - int(lo) + 1) if lo is not None and hi is not None else 0
    # A unit can be active in at most ``total`` periods; past the most any unit was, every
    # count is 0, so a range widened by an outlier time lists no more than the data holds.
    most = int(frames["counts"].select(pl.col("n").max()).item() or 0)
    shown = total if total <= per.DENSE_PERIODS else min(total, most)
    spine = pl.DataFrame({"n": list(range(1, shown + 1))}, schema={"n": pl.Int64})
    filled = (
        spine.join(frames["counts"], on="n", how="left").with_columns(pl.col("units").fill_null(0))
    ).sort("n")
    units = int(filled["units"].sum())
    active_periods = int((filled["n"] * filled["units"]).sum())
    extra = (
        [
            f"the data spans {total:,} {spec.period}s, so counts are listed up to the most "
            f"active unit's {most:,}; some times lie far outside the bulk of the data: check "
            "the time column (--time-format) or narrow it with --since/--until"
        ]
        if total > per.DENSE_PERIODS and lo is not None and hi is not None
        else []
    )
    return StickinessReport(
        settings=settings,
        warnings=_warnings(frames["bounds"], settings) + extra,
        counts=[
            {"periods": int(n), "units": int(u)}
            for n, u in zip(filled["n"].to_list(), filled["units"].to_list(), strict=True)
        ],
        avg_active_periods=active_periods / units if units else None,
        total_periods=total,
        units=units,
    )


def _end(bounds: pl.DataFrame) -> int:
    end = bounds["end"][0] if bounds.height else None
    return int(end) if end is not None else -(2**31)
