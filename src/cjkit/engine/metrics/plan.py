"""Planning ``cjkit metrics``: each stage of a model resolved against the event columns.

:func:`plan_stage` checks the options a kind reads (a missing amount or score column is an
error, a missing optional property a note) and :class:`MetricsPlan` holds the result, with the
funnel spec and the context every kind shares. Phase 1 (:mod:`.query`) and phase 2
(:mod:`.summary`) read only the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from cjkit.canonical import Period
from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.matchers import parse_entries
from cjkit.engine.metrics.base import Context, StagePlan
from cjkit.engine.metrics.kinds import PlanArgs, engine
from cjkit.maps.schema import JourneyMap, Stage


@dataclass(frozen=True)
class MetricsPlan:
    """Everything that decides a metrics report: the stages resolved against the data."""

    model: JourneyMap
    stages: tuple[StagePlan, ...]
    funnel: FunnelSpec
    ctx: Context
    segments: tuple[str, ...] = ()

    @staticmethod
    def seg(i: int) -> str:
        """Return the column holding each unit's value of the i-th breakdown property."""
        return f"__seg{i}"

    def of_kind(self, kind: str) -> list[StagePlan]:
        """Return the stages of one kind, in model order."""
        return [s for s in self.stages if s.kind == kind]


def plan_stage(
    index: int,
    stage: Stage,
    columns: Mapping[str, pl.DataType],
    *,
    period: Period | None = None,
    default_period: Period = "week",
    retention_periods: int | None = None,
) -> StagePlan:
    """Return the stage resolved against the event columns by its kind's engine; raise
    InputError for a column the kind can't report without (an amount, a score) or a
    non-numeric one.

    A retention stage's period is ``period`` (the ``--period`` flag) when given, else the
    stage's own, else ``default_period`` (the map's settings); ``retention_periods`` deepens
    the cohort table for targets such as ``week_12``.
    """
    matchers = tuple(parse_entries(stage.events))
    base = StagePlan(index=index, stage=stage, matchers=matchers)
    args = PlanArgs(period, default_period, retention_periods)
    return engine(stage.kind).plan(base, columns, args)
