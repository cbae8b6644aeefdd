"""Referral stages: who invites, how much, and how many invites turn into new units.

Over the population P (units with a first-stage event in the range):

* ``referrer_share`` = units of P with ≥ 1 stage event in the range / |P|;
* ``invites_per_unit`` = stage events of P in the range / |P|;
* ``referred_signups`` = acquired units (first-ever first-stage event in the range) with a
  non-null ``referrer`` property on any of their events — the property usually sits on the
  sign-up event, which need not be the acquisition event;
* ``invite_conversion`` = referred sign-ups / invites;
* ``k_factor`` = invites_per_unit × invite_conversion (a product, never a division), which is
  referred sign-ups per unit of P.

In a breakdown, invites count in the inviter's group. A referred sign-up counts in the group of
the unit its referrer value names (the inviter, when the property holds a unit id found in the
data), else in the referred unit's own group; so every group's k-factor is the sign-ups its own
members brought in, and the groups still sum to the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import polars as pl

from cjkit.canonical import USER
from cjkit.engine.metrics.base import (
    ACQUIRED,
    ALL,
    IN,
    Context,
    KindResult,
    StagePlan,
    as_int,
    grouped,
    optional_column,
)
from cjkit.engine.metrics.kinds import KindEngine, PlanArgs
from cjkit.engine.stats import ci_dict, ratio

if TYPE_CHECKING:
    from cjkit.engine.metrics.summary import View


def unit_exprs(plan: StagePlan, ctx: Context) -> list[pl.Expr]:
    """Return the per-unit aggregations: invites in the range, and whether the unit was referred."""
    exprs = [(pl.col(plan.flag) & pl.col(IN)).sum().cast(pl.Int64).alias(plan.col("invites"))]
    if plan.referrer:
        # The referrer on the unit's earliest event that names one (equal times: the smallest).
        value = ctx.earliest_value(plan.referrer, pl.col(plan.referrer).is_not_null())
        exprs.append(value.alias(plan.col("referrer")))
    return exprs


def unit_columns(plan: StagePlan, ctx: Context) -> list[pl.Expr]:
    """Return the columns derived after the per-unit aggregation: the referrer's value."""
    if not plan.referrer:
        return []
    return [ctx.decode_value(plan.col("referrer"), plan.referrer).alias(plan.col("referrer"))]


def _credited(units: pl.DataFrame, plan: StagePlan, key: str) -> pl.DataFrame:
    """Return ``units`` with ``__credit``: the group a referred sign-up counts in."""
    inviters = units.select(
        pl.col(USER).cast(pl.String).alias(plan.col("referrer")),
        pl.col(key).alias("__inviter"),
        pl.lit(value=True).alias("__found"),
    )
    return units.join(inviters, on=plan.col("referrer"), how="left").with_columns(
        pl.when(pl.col("__found"))
        .then(pl.col("__inviter"))
        .otherwise(pl.col(key))
        .alias("__credit")
    )


def summarize(units: pl.DataFrame, plan: StagePlan, key: str | None) -> dict[Any, KindResult]:
    """Return the referral metrics for the population or per group."""
    invites = pl.col(plan.col("invites"))
    exprs = [
        pl.len().alias("population"),
        (invites > 0).sum().alias("referrers"),
        invites.sum().alias("invites"),
    ]
    referred: dict[Any, int] = {}
    if plan.referrer:
        signups = pl.col(ACQUIRED) & pl.col(plan.col("referrer")).is_not_null()
        if key is None:
            referred[ALL] = as_int(units.select(signups.sum()).item())
        else:
            credited = _credited(units, plan, key).filter(signups)
            referred = dict(credited.group_by("__credit").len().iter_rows())

    def result(row: dict[str, Any], value: Any) -> KindResult:
        n = as_int(row["population"])
        referrers, sent = as_int(row["referrers"]), as_int(row["invites"])
        referred_n = referred.get(value, 0) if plan.referrer else None
        per_unit = ratio(sent, n)
        conversion = ratio(referred_n, sent)
        k = per_unit * conversion if per_unit is not None and conversion is not None else None
        ci = {"referrer_share": ci_dict(referrers, n)}
        # An interval is for a proportion: more sign-ups than invites (invites not all
        # tracked) has none.
        fits = referred_n is not None and referred_n <= sent
        ci["invite_conversion"] = ci_dict(referred_n or 0, sent) if fits else None
        return KindResult(
            metrics={
                "referrer_share": ratio(referrers, n),
                "invites_per_unit": per_unit,
                "referred_signups": referred_n,
                "invite_conversion": conversion,
                "k_factor": k,
            },
            ci=ci,
            detail={"population": n, "referrers": referrers, "invites": sent},
        )

    out = {value: result(row, value) for value, row in grouped(units, key, exprs)}
    # A group with no members of its own can still be credited with sign-ups.
    for value in referred:
        if value not in out:
            empty = {"population": 0, "referrers": 0, "invites": 0}
            out[value] = result(empty, value)
    return out


_NOT_MEASURED = "referred sign-ups, invite conversion and k-factor are not measured"


class Referral(KindEngine):
    """The referral kind's hooks."""

    def plan(
        self, base: StagePlan, columns: Mapping[str, pl.DataType], args: PlanArgs
    ) -> StagePlan:
        """Return the stage with its referrer column (None, with a note, when not named or
        missing)."""
        if base.stage.referrer is None:
            note = f"the stage names no referrer property: {_NOT_MEASURED}"
            return replace(base, notes=(note,))
        referrer, notes = optional_column("referrer", base.stage.referrer, columns, _NOT_MEASURED)
        return replace(base, referrer=referrer, notes=tuple(notes))

    def columns(self, plan: StagePlan) -> list[str]:
        """Return the referrer column."""
        return [plan.referrer] if plan.referrer else []

    text_columns = columns
    keep_columns = columns

    def keep(self, plan: StagePlan) -> list[pl.Expr]:
        """Keep the rows that carry a referrer (the sign-up need not be a stage event)."""
        return [pl.col(plan.referrer).is_not_null()] if plan.referrer else []

    def unit_exprs(self, plan: StagePlan, ctx: Context) -> list[pl.Expr]:
        """Return :func:`unit_exprs`."""
        return unit_exprs(plan, ctx)

    def unit_columns(self, plan: StagePlan, ctx: Context) -> list[pl.Expr]:
        """Return :func:`unit_columns`."""
        return unit_columns(plan, ctx)

    def summarize(
        self, view: View, plan: StagePlan, segment: int | None, earlier: Mapping[str, Any]
    ) -> dict[Any, KindResult]:
        """Return the referral metrics per group (:func:`summarize`)."""
        return summarize(view.pop, plan, view.group(segment)[0])


ENGINE = Referral()
