"""One module per stage kind, each with an ``ENGINE``: the kind's code behind a small protocol.

The kind's declaration (options, metrics with labels and units) is in :mod:`cjkit.kinds`; the
engine finds its code as ``cjkit.engine.metrics.kinds.<name>.ENGINE``, an instance of
:class:`KindEngine` (a kind without a module, such as ``step``, gets the base class, which
reports only the funnel numbers). The hooks, in the order a report calls them:

* planning: :meth:`KindEngine.plan` resolves the stage's options against the event columns;
* phase 1: :meth:`~KindEngine.columns`, :meth:`~KindEngine.unit_exprs` (aggregations inside
  the per-unit ``group_by``), :meth:`~KindEngine.unit_columns` (derived after it),
  :meth:`~KindEngine.unit_query` (a per-unit table joined on) and :meth:`~KindEngine.queries`
  (the kind's own small tables);
* passes: :meth:`~KindEngine.combine` merges the kind's tables of passes over disjoint sets of
  units (:mod:`cjkit.engine.metrics.combine`; tables it leaves out are concatenated);
* phase 2: :meth:`~KindEngine.summarize` (per group), :meth:`~KindEngine.tables`,
  :meth:`~KindEngine.notes`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import Period
from cjkit.engine.metrics.base import ALL, Context, KindResult, StagePlan

if TYPE_CHECKING:
    from cjkit.engine.metrics.plan import MetricsPlan
    from cjkit.engine.metrics.summary import View


@dataclass(frozen=True)
class PlanArgs:
    """What planning takes beyond the stage: the period flag and map default, and the deepest
    period a target asks for."""

    period: Period | None = None
    default_period: Period = "week"
    retention_periods: int | None = None


@dataclass(frozen=True)
class QueryInput:
    """What phase 1 hands a kind: the narrowed events (``frame``), the same with the per-event
    in-range column (``events``, cached), each unit's acquisition time (``acquired``), the
    per-unit table (``units``) and the whole plan."""

    frame: pl.LazyFrame
    events: pl.LazyFrame
    acquired: pl.LazyFrame
    units: pl.LazyFrame
    plan: MetricsPlan


class KindEngine:
    """A stage kind's code. Every hook has a default that adds nothing, so a kind overrides
    only what it reports. ``order`` sorts the phase-2 summaries (revenue reads acquisition's
    CAC, so it comes later)."""

    order = 0
    adds_groups = False

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage resolved against the event columns (raise InputError when the kind
        can't report without a column)."""
        del columns, args
        return base

    def columns(self, plan: StagePlan) -> list[str]:
        """Return the event columns the kind reads (beyond the stage's event matchers)."""
        del plan
        return []

    def text_columns(self, plan: StagePlan) -> list[str]:
        """Return the columns read with ``Context.earliest_value`` (their sorted values are
        collected first)."""
        del plan
        return []

    def keep(self, plan: StagePlan) -> list[pl.Expr]:
        """Return row predicates of events to keep beyond the stages' own (e.g. a referrer)."""
        del plan
        return []

    def keep_columns(self, plan: StagePlan) -> list[str]:
        """Return the columns :meth:`keep` reads."""
        del plan
        return []

    def unit_exprs(self, plan: StagePlan, ctx: Context) -> list[pl.Expr]:
        """Return aggregations inside the per-unit ``group_by``."""
        del plan, ctx
        return []

    def unit_columns(self, plan: StagePlan, ctx: Context) -> list[pl.Expr]:
        """Return columns derived on the per-unit table after the aggregation."""
        del plan, ctx
        return []

    def unit_query(self, q: QueryInput, plan: StagePlan) -> pl.LazyFrame | None:
        """Return a per-unit table (keyed by unit) to join onto the units, or None."""
        del q, plan
        return None

    def queries(self, q: QueryInput, plan: StagePlan) -> dict[str, pl.LazyFrame]:
        """Return the kind's own lazy tables, keyed by name (unique across the report)."""
        del q, plan
        return {}

    def combine(
        self, plan: StagePlan, mplan: MetricsPlan, parts: Sequence[Mapping[str, pl.DataFrame]]
    ) -> dict[str, pl.DataFrame]:
        """Return the kind's tables of :meth:`queries` that are not per-unit rows, merged from
        the collected ``parts`` of passes over disjoint sets of units (counts add up); the
        tables left out are concatenated."""
        del plan, mplan, parts
        return {}

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return one result per group: ``{ALL: …}`` for the population (``segment`` None),
        else per value of the segment-th breakdown property. ``earlier`` holds the results of
        the stages summarized before (lower ``order``), by stage id."""
        del view, plan, segment, earlier
        return {}

    def tables(self, view: View, plan: StagePlan) -> dict[str, Any]:
        """Return the stage's tables over the population."""
        del view, plan
        return {}

    def notes(self, view: View, plan: StagePlan) -> list[str]:
        """Return notes about the stage's data (beyond planning notes)."""
        del view, plan
        return []

    def retention(self, view: View, plan: StagePlan) -> Any:
        """Return the stage's cohort report, for kinds that have one (else None)."""
        del view, plan
        return None


_DEFAULT = KindEngine()
_CACHE: dict[str, KindEngine] = {}


def engine(kind: str) -> KindEngine:
    """Return the engine of a registered kind: its module's ``ENGINE``, or the base (funnel
    numbers only) when the kind has no module."""
    if kind not in _CACHE:
        try:
            module = importlib.import_module(f"{__name__}.{kind}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{kind}":
                raise
            _CACHE[kind] = _DEFAULT
        else:
            _CACHE[kind] = getattr(module, "ENGINE", _DEFAULT)
    return _CACHE[kind]


def set_engine(kind: str, code: KindEngine | None) -> None:
    """Install (or with None, forget) the engine of a kind whose code is not a module here,
    such as a plugin's or a test's."""
    if code is None:
        _CACHE.pop(kind, None)
    else:
        _CACHE[kind] = code


__all__ = ["ALL", "KindEngine", "PlanArgs", "QueryInput", "engine", "set_engine"]
