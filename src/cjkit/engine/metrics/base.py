"""What every stage-kind module shares: the resolved plan of a stage, column names, grouping.

``cjkit metrics`` works in two phases, as every analysis does:

* phase 1 (lazy, collected once): the events are reduced to one row per unit (``units``) with
  the population flags, the acquisition time, the segment values and each stage's per-unit
  facts, plus a few small per-(unit, currency) and per-cohort tables;
* phase 2 (eager, small frames): each kind module aggregates those tables for the whole
  population and for each breakdown group, and turns sums into metrics.

A kind module (``acquisition``, ``activation``, ``referral``, ``revenue``, ``satisfaction``)
gives its phase-1 per-unit facts, as ``unit_exprs(plan, ctx)`` (aggregations inside
``group_by(unit)``, with ``unit_columns`` derived after it) or, for activation, as
``unit_query`` (a table joined onto the units, because it compares events with the unit's
acquisition), and ``summarize(units, plan, key)`` (phase 2, one :class:`KindResult` per group).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from cjkit.canonical import TIME, Period, WeekStart
from cjkit.engine.earliest import earliest_code
from cjkit.engine.matchers import Matcher
from cjkit.errors import InputError, did_you_mean
from cjkit.maps.schema import Stage

POP = "__pop"  # the unit has a first-stage event in the range: the population
ACQ = "__acq"  # the unit's first-ever first-stage event: its acquisition
ACQUIRED = "__acquired"  # the acquisition falls in the range
IN = "__in"  # (per event) the event falls in the range


class _All:
    """The key of the whole population, as opposed to a breakdown value (which may be None)."""

    def __repr__(self) -> str:
        return "ALL"


ALL: Any = _All()


@dataclass(frozen=True)
class StagePlan:
    """One stage, resolved against the data: which columns its kind options read.

    An option whose column is missing from the data is None here, with a note saying so.
    """

    index: int
    stage: Stage
    matchers: tuple[Matcher, ...]
    within_s: int | None = None
    channel: str | None = None
    amount: str | None = None
    currency: str | None = None
    order_id: str | None = None
    referrer: str | None = None
    score: str | None = None
    period: Period = "week"
    periods: int = 8
    notes: tuple[str, ...] = ()
    # Kind-specific resolved options of kinds that declare their own (e.g. satisfaction's CSAT).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Return the stage id."""
        return self.stage.id

    @property
    def kind(self) -> str:
        """Return the stage kind."""
        return self.stage.kind

    @property
    def flag(self) -> str:
        """Return the name of the per-event column that marks this stage's events."""
        return f"__m{self.index}"

    def col(self, name: str) -> str:
        """Return the name of one of this stage's per-unit columns."""
        return f"{self.stage.id}__{name}"


@dataclass(frozen=True)
class Context:
    """What the kind modules need beyond their own stage: the range and the period cut."""

    since: datetime | None
    until: datetime | None
    tz: str
    period: Period
    week_start: WeekStart
    first_flag: str  # the column flagging the first stage's events
    # Sorted distinct text values of the columns read with earliest_value (set by the engine).
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def acquisition(self) -> pl.Expr:
        """Return (in a group_by unit) the unit's acquisition: its first first-stage event."""
        return pl.when(pl.col(self.first_flag)).then(pl.col(TIME)).min()

    def earliest_value(self, column: str, where: pl.Expr) -> pl.Expr:
        """Return (in a group_by unit) the rank of ``column``'s value on the unit's earliest
        ``where`` event; equal times go to the smallest value, nulls last.

        Decode it with :meth:`decode_value` after the group_by. Per-group ``sort_by`` or
        ``filter`` expressions here were four times slower than the rest of the per-unit table.
        """
        values = self.values[column]
        rank = pl.col(column).cast(pl.String).cast(pl.Enum(list(values))).to_physical()
        return earliest_code(where, rank.fill_null(len(values)))

    def decode_value(self, rank: str, column: str) -> pl.Expr:
        """Return the value an :meth:`earliest_value` column ranks (null when there is none)."""
        values = self.values[column]
        return pl.col(rank).replace_strict(
            dict(enumerate(values)), default=None, return_dtype=pl.String
        )

    def in_range(self, ts: pl.Expr) -> pl.Expr:
        """Return whether ``ts`` falls in the inclusive range (open ends always match)."""
        expr = pl.lit(value=True)
        if self.since is not None:
            expr = expr & (ts >= self.since)
        if self.until is not None:
            expr = expr & (ts <= self.until)
        return expr


@dataclass
class KindResult:
    """A stage's kind metrics for one group: values, Wilson intervals, extra numbers (detail),
    tables and notes."""

    metrics: dict[str, Any]
    ci: dict[str, dict[str, float] | None] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def grouped(
    frame: pl.DataFrame, key: str | None, exprs: list[pl.Expr]
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yield ``(group value, aggregated row)``: one row keyed :data:`ALL` when ``key`` is None,
    else one per value of ``key`` (nulls included)."""
    if key is None:
        yield ALL, frame.select(exprs).row(0, named=True)
        return
    for row in frame.group_by(key).agg(exprs).iter_rows(named=True):
        yield row[key], row


def summarize_rows(
    frame: pl.DataFrame,
    key: str | None,
    exprs: list[pl.Expr],
    result: Callable[[dict[str, Any]], KindResult],
) -> dict[Any, KindResult]:
    """Return ``result(row)`` per group of :func:`grouped`."""
    return {value: result(row) for value, row in grouped(frame, key, exprs)}


def seconds(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    """Return ``later − earlier`` in (fractional) seconds."""
    return (later - earlier).dt.total_microseconds() / 1_000_000


def as_int(value: Any) -> int:
    """Return an aggregated count as an int (a null sum of nothing is 0)."""
    return int(value or 0)


def as_float(value: Any) -> float | None:
    """Return an aggregated number as a float, or None."""
    return None if value is None else float(value)


def _is_number(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Null


def optional_column(
    option: str, value: str | None, columns: Mapping[str, pl.DataType], why: str
) -> tuple[str | None, list[str]]:
    """Return (the column, notes): a named property missing from the data is dropped, noted."""
    if value is None:
        return None, []
    if value in columns:
        return value, []
    return None, [f"no column '{value}' (the stage's {option}) in the events: {why}"]


def required_number(
    stage: Stage, option: str, value: str, columns: Mapping[str, pl.DataType]
) -> str:
    """Return the numeric column ``value`` a stage option names; raise InputError when the
    events don't have it or it holds no numbers."""
    if value not in columns:
        raise InputError(
            f"stage '{stage.id}' ({stage.kind}) reads its {option} from column '{value}', "
            f"which the events don't have (columns: {', '.join(columns)})",
            hint=did_you_mean(value, columns) or f"set the stage's '{option}' in a map",
        )
    dtype = columns[value]
    if not _is_number(dtype):
        raise InputError(
            f"stage '{stage.id}': column '{value}' ({option}) holds {dtype}, expected numbers "
            "(convert it in the source, e.g. strip currency signs and thousands separators)"
        )
    return value
