"""Identity merging: count every event of an anonymous id for the user it is later tied to.

A row that holds both an anonymous id and a user id ties the two (Segment's ``anonymousId`` and
``userId`` on the same call; PostHog's ``$identify`` event with ``$anon_distinct_id``;
Mixpanel's ``$identify`` with ``$anon_id`` and ``$identified_id``; GA4's ``user_pseudo_id`` and
``user_id``). Each event's unit is then, in order: the user its unit id is tied to, the unit id
itself. An event with no unit id falls back to its anonymous id, so Segment's anonymous calls
(``userId`` null) reach their user as well.

Rules (docs/inputs.md compares them with PostHog's person merging and Mixpanel's ID merge):

* a tie counts from the first event on, whatever the order of the events around it;
* an anonymous id tied to two or more users goes to the first of them (the earliest tie, then
  the smaller user id): a *conflict*, which ``inspect`` counts;
* ties are one step deep: a user id is never itself re-mapped.

The map has one row per tied anonymous id: it is collected once and joined onto the events, so
each pass of the engines over a share of the units reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ANON = "__anon"
MAPPED = "__mapped"


@dataclass(frozen=True)
class Identity:
    """Where the anonymous and user ids are: columns or dotted paths."""

    anonymous: str
    user: str


@dataclass(frozen=True)
class IdMap:
    """The anonymous-to-user map, with the numbers ``inspect`` reports."""

    table: pl.DataFrame
    conflicts: int

    @property
    def merged(self) -> int:
        """Return the number of anonymous ids that count for a user."""
        return self.table.height


def build(frame: pl.LazyFrame, anon: pl.Expr, user: pl.Expr, time: str) -> IdMap:
    """Return the map of ``frame``'s ties (one collect of three narrow columns)."""
    # Distinct (anonymous, user) pairs with their first time: a small table, then sorted.
    ties = (
        frame.select(
            anon.cast(pl.String).alias(ANON), user.cast(pl.String).alias(MAPPED), pl.col(time)
        )
        .filter(
            pl.col(ANON).is_not_null()
            & pl.col(MAPPED).is_not_null()
            & (pl.col(ANON) != pl.col(MAPPED))
        )
        .group_by(ANON, MAPPED)
        .agg(pl.col(time).min())
        .collect()
        .sort([ANON, time, MAPPED], nulls_last=True)
        .group_by(ANON, maintain_order=True)
        .agg(pl.col(MAPPED).first(), pl.len().alias("__users"))
    )
    conflicts = int((ties["__users"] > 1).sum())
    return IdMap(ties.select(ANON, MAPPED).sort(ANON), conflicts)


def apply(frame: pl.LazyFrame, unit: str, fallback: pl.Expr | None, ids: IdMap) -> pl.LazyFrame:
    """Return ``frame`` with ``unit`` replaced by the user each row's id is tied to."""
    raw = pl.col(unit) if fallback is None else pl.coalesce(pl.col(unit), fallback.cast(pl.String))
    return (
        frame.with_columns(raw.alias(unit))
        .join(ids.table.lazy(), left_on=unit, right_on=ANON, how="left")
        .with_columns(pl.coalesce(MAPPED, unit).alias(unit))
        .drop(MAPPED)
    )
