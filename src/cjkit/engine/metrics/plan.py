"""Planning ``cjkit metrics``: each stage of a model resolved against the event columns.

:func:`plan_stage` checks the options a kind reads (a missing amount or score column is an
error, a missing optional property a note) and :class:`MetricsPlan` holds the result, with the
funnel spec and the context every kind shares. Phase 1 (:mod:`.query`) and phase 2
(:mod:`.summary`) read only the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import polars as pl

from cjkit.durations import parse_duration
from cjkit.engine import periods as per
from cjkit.engine.cohorts import retention as retention_engine
from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.engine.matchers import parse_entries
from cjkit.engine.metrics.base import Context, StagePlan
from cjkit.engine.metrics.kinds import activation
from cjkit.errors import InputError, did_you_mean
from cjkit.maps.schema import JourneyMap, Stage

DEFAULT_RETENTION_PERIODS = 8


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


def _is_number(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Null


def _optional(
    stage: Stage, option: str, value: str | None, columns: Mapping[str, pl.DataType], why: str
) -> tuple[str | None, list[str]]:
    """Return (the column, notes): a named property missing from the data is dropped, noted."""
    if value is None:
        return None, []
    if value in columns:
        return value, []
    return None, [f"no column '{value}' (the stage's {option}) in the events: {why}"]


def _required_number(
    stage: Stage, option: str, value: str, columns: Mapping[str, pl.DataType]
) -> str:
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


def plan_stage(
    index: int,
    stage: Stage,
    columns: Mapping[str, pl.DataType],
    *,
    period: per.Period | None = None,
    default_period: per.Period = "week",
    retention_periods: int | None = None,
) -> StagePlan:
    """Return the stage resolved against the event columns; raise InputError for a missing
    amount or score column (the kind can't report without it) or a non-numeric one.

    A retention stage's period is ``period`` (the ``--period`` flag) when given, else the
    stage's own, else ``default_period`` (the map's settings); ``retention_periods`` deepens
    the cohort table for targets such as ``week_12``.
    """
    matchers = tuple(parse_entries(stage.events))
    base = StagePlan(index=index, stage=stage, matchers=matchers)
    kind = stage.kind
    if kind == "acquisition":
        channel, notes = _optional(
            stage, "channel", stage.channel, columns, "new units are not split by channel"
        )
        return replace(base, channel=channel, notes=tuple(notes))
    if kind == "activation":
        within = parse_duration(stage.within) if stage.within else activation.DEFAULT_WITHIN_S
        return replace(base, within_s=within)
    if kind == "referral":
        if stage.referrer is None:
            note = [
                "the stage names no referrer property: referred sign-ups, invite conversion "
                "and k-factor are not measured"
            ]
            return replace(base, notes=tuple(note))
        referrer, notes = _optional(
            stage,
            "referrer",
            stage.referrer,
            columns,
            "referred sign-ups, invite conversion and k-factor are not measured",
        )
        return replace(base, referrer=referrer, notes=tuple(notes))
    if kind == "revenue":
        amount = _required_number(stage, "amount", stage.amount or "amount", columns)
        currency, n1 = _optional(
            stage, "currency", stage.currency, columns, "all amounts are taken as one currency"
        )
        order_id, n2 = _optional(
            stage, "order_id", stage.order_id, columns, "each purchase event is one order"
        )
        return replace(
            base, amount=amount, currency=currency, order_id=order_id, notes=tuple(n1 + n2)
        )
    if kind == "satisfaction":
        score = _required_number(stage, "score", stage.score or "score", columns)
        return replace(base, score=score)
    if kind == "retention":
        periods = max(stage.periods or DEFAULT_RETENTION_PERIODS, retention_periods or 0)
        # A target deeper than the engine's limit reads as a metric the stage doesn't report.
        periods = min(periods, retention_engine.MAX_PERIODS)
        return replace(base, period=period or stage.period or default_period, periods=periods)
    return base


def retention_spec(
    plan: MetricsPlan, stage: StagePlan, by: str | None = None
) -> retention_engine.RetentionSpec:
    """Return the cohort spec of a retention stage: start = first stage, return = this stage."""
    ctx = plan.ctx
    return retention_engine.RetentionSpec(
        start=plan.stages[0].matchers,
        returns=stage.matchers,
        period=stage.period,
        periods=stage.periods,
        week_start=ctx.week_start,
        tz=ctx.tz,
        since=ctx.since,
        until=ctx.until,
        by=(by,) if by else (),
    )
