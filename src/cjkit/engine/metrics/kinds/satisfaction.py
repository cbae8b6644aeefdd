"""Satisfaction stages: Net Promoter Score and the mean score of survey answers.

Every answer counts (as PostHog's and Delighted's NPS do), not only each unit's latest: a unit
that answers twice is two responses. An answer is a stage event in the range, by the
population, with a ``score`` from 0 to 10; other scores are left out and counted in
``detail.invalid_scores``. Promoters score 9–10, detractors 0–6, passives 7–8 (they count only
in the denominator): ``nps`` = 100 × (promoters − detractors) / responses, in −100..100.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cjkit.engine.metrics.base import IN, Context, KindResult, StagePlan, as_int, summarize_rows
from cjkit.engine.stats import ci_dict, ratio

PROMOTER_MIN, DETRACTOR_MAX = 9, 6


def unit_exprs(plan: StagePlan, ctx: Context) -> list[pl.Expr]:
    """Return the per-unit counts of responses, promoters, detractors, and the score sum."""
    del ctx
    assert plan.score is not None
    score = pl.col(plan.score)
    answered = pl.col(plan.flag) & pl.col(IN) & score.is_not_null()
    valid = answered & score.is_between(0, 10)
    return [
        valid.sum().cast(pl.Int64).alias(plan.col("responses")),
        (valid & (score >= PROMOTER_MIN)).sum().cast(pl.Int64).alias(plan.col("promoters")),
        (valid & (score <= DETRACTOR_MAX)).sum().cast(pl.Int64).alias(plan.col("detractors")),
        score.filter(valid).cast(pl.Float64).sum().alias(plan.col("score_sum")),
        (answered & ~valid).sum().cast(pl.Int64).alias(plan.col("invalid")),
    ]


def summarize(units: pl.DataFrame, plan: StagePlan, key: str | None) -> dict[Any, KindResult]:
    """Return NPS, the mean score and the number of responses, for the population or per group."""
    names = ("responses", "promoters", "detractors", "score_sum", "invalid")
    exprs = [pl.col(plan.col(n)).sum().alias(n) for n in names]

    def result(row: dict[str, Any]) -> KindResult:
        n = as_int(row["responses"])
        promoters, detractors = as_int(row["promoters"]), as_int(row["detractors"])
        share_p, share_d = ratio(promoters, n), ratio(detractors, n)
        nps = 100 * (share_p - share_d) if share_p is not None and share_d is not None else None
        return KindResult(
            metrics={
                "nps": nps,
                "mean_score": ratio(row["score_sum"] or 0.0, n),
                "responses": n,
            },
            ci={"promoter_share": ci_dict(promoters, n), "detractor_share": ci_dict(detractors, n)},
            detail={
                "promoters": promoters,
                "passives": n - promoters - detractors,
                "detractors": detractors,
                "promoter_share": share_p,
                "detractor_share": share_d,
                "invalid_scores": as_int(row["invalid"]),
            },
        )

    return summarize_rows(units, key, exprs, result)
