"""Satisfaction stages: NPS, CSAT and CES from survey answers (docs/metrics.md, "Satisfaction").

Every answer counts (as PostHog's and Delighted's NPS do), not only each unit's latest: a unit
that answers twice is two responses. An answer is a stage event in the range, by the
population, with a non-null score. A stage reads up to three score columns, each on its scale:

* ``score`` (NPS, ``scale`` default [0, 10]): promoters score 9–10, detractors 0–6, passives
  7–8; ``nps`` = 100 × (promoters − detractors) / responses, in −100..100 (defined on the 0–10
  scale only; on another scale NPS is null and the mean score is still given);
* ``csat`` (``csat_scale`` default [1, 5]): ``csat`` = answers ≥ ``csat_min`` (default the top
  two boxes, 4–5) / CSAT answers, with a Wilson interval;
* ``ces`` (``ces_scale`` default [1, 7], higher = easier): ``ces`` = the mean score, with a
  Student t interval; ``ces_easy`` = answers ≥ ``ces_min`` (default 5–7) / CES answers, Wilson.

A score outside its scale is an input error naming the scale and the values seen. Tables: the
metrics by ``touchpoint`` (the answer's property, default column ``touchpoint`` when the data
has it) and by the stage the unit had reached when it answered: the last other stage of the
model, in model order, whose first event for the unit came at or before the answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import STATS_HINT, TIME, USER
from cjkit.engine.metrics.base import (
    IN,
    KindResult,
    StagePlan,
    as_int,
    optional_column,
    required_number,
    summarize_rows,
)
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs, QueryInput
from cjkit.engine.stats import ci_dict, ratio
from cjkit.errors import InputError, UsageError

if TYPE_CHECKING:
    from cjkit.engine.metrics.summary import View

PROMOTER_MIN, DETRACTOR_MAX = 9, 6
NPS_SCALE = (0.0, 10.0)
CSAT_SCALE = (1.0, 5.0)
CES_SCALE = (1.0, 7.0)
REACHED = "__reached"
TOUCHPOINT = "touchpoint"


@dataclass(frozen=True)
class Question:
    """One score column of the stage: its role (nps, csat, ces), column, scale and the lowest
    score that counts as satisfied (CSAT) or easy (CES)."""

    role: str
    column: str
    scale: tuple[float, float]
    good_min: float | None = None


def questions(plan: StagePlan) -> list[Question]:
    """Return the stage's resolved score columns."""
    found: list[Question] = plan.options.get("questions", [])
    return found


def _scale(value: Any, default: tuple[float, float]) -> tuple[float, float]:
    return (float(value[0]), float(value[1])) if value is not None else default


def _plan(base: StagePlan, columns: Mapping[str, pl.DataType]) -> StagePlan:
    stage = base.stage
    found: list[Question] = []
    if stage.score is not None or (stage.csat is None and stage.ces is None):
        column = required_number(stage, "score", stage.score or "score", columns)
        found.append(Question("nps", column, _scale(stage.scale, NPS_SCALE)))
    if stage.csat is not None:
        scale = _scale(stage.csat_scale, CSAT_SCALE)
        good = stage.csat_min if stage.csat_min is not None else scale[1] - 1
        found.append(
            Question("csat", required_number(stage, "csat", stage.csat, columns), scale, good)
        )
    if stage.ces is not None:
        scale = _scale(stage.ces_scale, CES_SCALE)
        good = stage.ces_min if stage.ces_min is not None else scale[1] - 2
        found.append(
            Question("ces", required_number(stage, "ces", stage.ces, columns), scale, good)
        )
    for q in found:
        if q.good_min is not None and not q.scale[0] <= q.good_min <= q.scale[1]:
            raise InputError(
                f"stage '{stage.id}': {q.role}_min {q.good_min:g} is outside its scale "
                f"{_scale_text(q.scale)}"
            )
    touchpoint, notes = optional_column(
        "touchpoint", stage.touchpoint, columns, "answers are not split by touchpoint"
    )
    if stage.touchpoint is None and TOUCHPOINT in columns:
        touchpoint = TOUCHPOINT
    score = next((q.column for q in found if q.role == "nps"), None)
    return replace(
        base,
        score=score,
        notes=tuple(notes),
        options={"questions": found, "touchpoint": touchpoint},
    )


def _scale_text(scale: tuple[float, float]) -> str:
    return f"{scale[0]:g}–{scale[1]:g}"


def answers_query(q: QueryInput, plan: StagePlan) -> pl.LazyFrame:
    """Return one row per answer (stage event in the range with any score): the unit, its
    scores, the touchpoint and the index of the stage the unit had reached (``__reached``)."""
    qs = questions(plan)
    mplan = q.plan
    answered = pl.any_horizontal([pl.col(x.column).is_not_null() for x in qs])
    touchpoint = plan.options.get("touchpoint")
    answers = q.events.filter(pl.col(plan.flag) & pl.col(IN) & answered).select(
        USER,
        TIME,
        *[pl.col(x.column).cast(pl.Float64).alias(x.role) for x in qs],
        (pl.col(touchpoint).cast(pl.String) if touchpoint else pl.lit(None, pl.String)).alias(
            TOUCHPOINT
        ),
    )
    reached = pl.max_horizontal(
        pl.when(pl.col(_first(plan, s.index)) <= pl.col(TIME)).then(pl.lit(s.index, pl.Int32))
        for s in mplan.stages
        if s.index != plan.index
    )
    # Each answering unit's first event of every stage, from those units' events only.
    firsts = (
        q.events.join(answers.select(USER).unique(), on=USER, how="semi")
        .group_by(USER)
        .agg(
            pl.when(pl.col(s.flag)).then(pl.col(TIME)).min().alias(_first(plan, s.index))
            for s in mplan.stages
            if s.index != plan.index
        )
    )
    return (
        answers.join(firsts, on=USER, how="left")
        .with_columns(reached.alias(REACHED))
        .select(USER, *[x.role for x in qs], TOUCHPOINT, REACHED)
    )


def _first(plan: StagePlan, index: int) -> str:
    return plan.col(f"first{index}")


def _exprs(qs: list[Question]) -> list[pl.Expr]:
    """Return the aggregations of answers behind every metric (sums, so groups add up)."""
    exprs: list[pl.Expr] = []
    for q in qs:
        col = pl.col(q.role)
        answered = col.is_not_null()
        exprs.append(answered.sum().alias(f"{q.role}_n"))
        exprs.append(col.sum().alias(f"{q.role}_sum"))
        exprs.append((col * col).sum().alias(f"{q.role}_sq"))
        if q.role == "nps":
            exprs.append((col >= PROMOTER_MIN).sum().alias("promoters"))
            exprs.append((col <= DETRACTOR_MAX).sum().alias("detractors"))
        else:
            exprs.append((col >= q.good_min).sum().alias(f"{q.role}_good"))
    return exprs


def _names(qs: list[Question]) -> list[str]:
    """Return the names of :func:`_exprs`' aggregations."""
    return [str(e.meta.output_name()) for e in _exprs(qs)]


def t_interval(total: float, squares: float, n: int) -> dict[str, float] | None:
    """Return the 95% Student t interval of a mean from the sum and the sum of squares of
    ``n`` values (None for fewer than two). Needs scipy (the ``stats`` extra)."""
    if n < 2:
        return None
    try:
        from scipy.stats import t as student
    except ImportError:
        raise UsageError(
            "CES's t interval needs scipy, which is not installed", hint=STATS_HINT
        ) from None
    mean = total / n
    variance = max(0.0, (squares - n * mean * mean) / (n - 1))
    half = float(student.ppf(0.975, n - 1)) * math.sqrt(variance / n)
    return {"low": mean - half, "high": mean + half}


def _result(row: dict[str, Any], qs: list[Question]) -> KindResult:
    roles = {q.role: q for q in qs}
    metrics: dict[str, Any] = {}
    ci: dict[str, dict[str, float] | None] = {}
    detail: dict[str, Any] = {}
    if "nps" in roles:
        q = roles["nps"]
        n = as_int(row["nps_n"])
        promoters, detractors = as_int(row["promoters"]), as_int(row["detractors"])
        share_p, share_d = ratio(promoters, n), ratio(detractors, n)
        on_nps_scale = q.scale == NPS_SCALE
        nps = 100 * (share_p - share_d) if share_p is not None and share_d is not None else None
        metrics["nps"] = nps if on_nps_scale else None
        metrics["mean_score"] = ratio(row["nps_sum"] or 0.0, n)
        metrics["responses"] = n
        if on_nps_scale:
            ci = {
                "promoter_share": ci_dict(promoters, n),
                "detractor_share": ci_dict(detractors, n),
            }
            detail.update(
                promoters=promoters,
                passives=n - promoters - detractors,
                detractors=detractors,
                promoter_share=share_p,
                detractor_share=share_d,
            )
        detail["scale"] = list(q.scale)
    if "csat" in roles:
        n, good = as_int(row["csat_n"]), as_int(row["csat_good"])
        metrics.update(csat=ratio(good, n), csat_responses=n)
        ci["csat"] = ci_dict(good, n)
        detail.update(csat_satisfied=good, csat_scale=list(roles["csat"].scale))
        detail["csat_min"] = roles["csat"].good_min
    if "ces" in roles:
        n, good = as_int(row["ces_n"]), as_int(row["ces_good"])
        total, squares = float(row["ces_sum"] or 0.0), float(row["ces_sq"] or 0.0)
        metrics.update(ces=ratio(total, n), ces_easy=ratio(good, n), ces_responses=n)
        ci["ces"] = t_interval(total, squares, n)
        ci["ces_easy"] = ci_dict(good, n)
        detail.update(ces_easy_count=good, ces_scale=list(roles["ces"].scale))
        detail["ces_min"] = roles["ces"].good_min
    return KindResult(metrics=metrics, ci=ci, detail=detail)


def check_scales(answers: pl.DataFrame, plan: StagePlan) -> None:
    """Raise InputError when a score lies outside its scale, naming the scale and the values."""
    for q in questions(plan):
        col = pl.col(q.role)
        bad = answers.filter(col.is_not_null() & ~col.is_between(*q.scale))
        if bad.height:
            values = bad[q.role].unique().sort()
            shown = ", ".join(f"{v:g}" for v in values.head(5).to_list())
            more = f" and {values.len() - 5} more" if values.len() > 5 else ""
            option = "scale" if q.role == "nps" else f"{q.role}_scale"
            raise InputError(
                f"stage '{plan.id}': column '{q.column}' ({q.role}) has {bad.height:,} score(s) "
                f"outside its scale {_scale_text(q.scale)}: {shown}{more}",
                hint=f"set the stage's '{option}' to the question's scale, e.g. {option}: [1, 5]",
            )


class Satisfaction(KindEngine):
    """The satisfaction kind's hooks: everything is computed from the answers table."""

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage with its score columns, scales and touchpoint."""
        return _plan(base, columns)

    def columns(self, plan: StagePlan) -> list[str]:
        """Return the score columns and the touchpoint."""
        touchpoint = plan.options.get("touchpoint")
        return [q.column for q in questions(plan)] + ([touchpoint] if touchpoint else [])

    def queries(self, q: QueryInput, plan: StagePlan) -> dict[str, pl.LazyFrame]:
        """Return the answers table."""
        return {f"sat:{plan.id}": answers_query(q, plan)}

    def _answers(self, view: View, plan: StagePlan) -> pl.DataFrame:
        def make() -> pl.DataFrame:
            answers = view.frames[f"sat:{plan.id}"].join(
                view.pop.select(USER, *[view.plan.seg(i) for i in range(len(view.plan.segments))]),
                on=USER,
                how="inner",
            )
            check_scales(answers, plan)
            return answers

        found: pl.DataFrame = view.memo(plan.id, make)
        return found

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return NPS, CSAT and CES for the population or per group."""
        qs = questions(plan)
        key = view.group(segment)[0]
        out = summarize_rows(self._answers(view, plan), key, _exprs(qs), lambda r: _result(r, qs))
        if key is not None:
            # Groups whose members never answered still report 0 responses.
            empty = _result(dict.fromkeys(_names(qs)), qs)
            for value in view.pop[key].unique().to_list():
                out.setdefault(value, empty)
        return out

    def tables(self, view: View, plan: StagePlan) -> dict[str, Any]:
        """Return the metrics by touchpoint and by the stage reached when answering."""
        answers = self._answers(view, plan)
        qs = questions(plan)
        names = {s.index: s.stage.name for s in view.plan.stages}
        ids = {s.index: s.id for s in view.plan.stages}
        out: dict[str, Any] = {}
        if plan.options.get("touchpoint"):
            by = summarize_rows(answers, TOUCHPOINT, _exprs(qs), lambda r: _result(r, qs))
            out["by_touchpoint"] = [
                {"touchpoint": value, **by[value].metrics}
                for value in sorted(by, key=lambda v: (v is None, v or ""))
            ]
        by = summarize_rows(answers, REACHED, _exprs(qs), lambda r: _result(r, qs))
        out["by_stage_reached"] = [
            {"stage": ids.get(value), "name": names.get(value), **by[value].metrics}
            for value in sorted(by, key=lambda v: (v is None, v or 0))
        ]
        return out

    def notes(self, view: View, plan: StagePlan) -> list[str]:
        """Return a note when NPS answers all sit in 1–5 on the 0–10 scale (a 1–5 rating
        read as NPS gives −100) or when NPS is undefined on the stage's scale."""
        nps = next((q for q in questions(plan) if q.role == "nps"), None)
        if nps is None:
            return []
        if nps.scale != NPS_SCALE:
            return [
                f"NPS is defined on a 0–10 scale; the stage's scale is {_scale_text(nps.scale)}, so only the mean score is given"
            ]
        scores = self._answers(view, plan)["nps"].drop_nulls()
        if scores.len() and scores.max() <= 5 and scores.min() >= 1:  # type: ignore[operator]
            return [
                f"every '{nps.column}' score is between 1 and 5 on the 0–10 NPS scale: if the "
                "question is a 1–5 rating, set 'scale: [1, 5]' (or read it as csat)"
            ]
        return []


ENGINE = Satisfaction()
