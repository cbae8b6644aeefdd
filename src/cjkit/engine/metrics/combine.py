"""``cjkit metrics`` in passes over disjoint sets of units: the passes' tables merged into one.

An input too big for memory is split by a hash of the unit (:func:`cjkit.engine.passes.split_units`)
and phase 1 (:func:`.query.narrow`, :func:`.query.queries`) runs on each part in turn. A unit's
whole history is in one part, so each pass's tables cover its own units only, and phase 2
(:mod:`.summary`) reads the merged tables as it reads one pass's:

* per-unit rows concatenate: ``units``, ``journeys``, a revenue stage's (unit, currency) money,
  a satisfaction stage's answers. Medians and percentiles (time to convert, to activate) are
  taken in phase 2 from these per-unit values, so they stay exact;
* aggregates declare their own rule (:meth:`KindEngine.combine
  <cjkit.engine.metrics.kinds.KindEngine.combine>`): revenue's LTV cells add up as exact
  six-decimal sums (:mod:`cjkit.engine.money`); retention's cohort cells and churn add up and
  its ranges widen (:func:`cjkit.engine.cohorts.retention.combine`).

What must be global is not computed per pass: the data span (open range ends, complete periods)
and the source summary come from one scan of the whole input (:mod:`cjkit.api.metrics`), and the
churn of a breakdown group is cut to the complete periods in phase 2, with the merged bounds. The
sorted text values that rank acquisition channels and referrers (``query._with_values``) are a
pass's own: each rank is decoded within its pass, and a pass's values keep the whole input's
order, so the decoded values are the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from cjkit.engine.metrics.kinds import engine
from cjkit.engine.metrics.plan import MetricsPlan


def combine(
    parts: Sequence[Mapping[str, pl.DataFrame]], plan: MetricsPlan
) -> dict[str, pl.DataFrame]:
    """Return the tables of one report from the collected tables of each pass (the same names
    in every pass): the kinds' own rules first, the rest concatenated."""
    if len(parts) == 1:
        return dict(parts[0])
    out: dict[str, pl.DataFrame] = {}
    for stage in plan.stages:
        out.update(engine(stage.kind).combine(stage, plan, parts))
    for name in parts[0]:
        if name not in out:
            out[name] = pl.concat([part[name] for part in parts])
    return out
