"""Checks that keep a report from being silently wrong: steps whose events never occur.

A misspelt step (``-s purchse``) gives 0 units at 0.0% like a real drop-off would. When a
step reaches no unit, one extra query over the events asks whether its event names occur at
all; those that don't become a warning with the closest name in the data (did you mean …?).
The query only runs in that case, so ordinary funnels cost nothing more.
"""

from __future__ import annotations

import polars as pl

from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.errors import did_you_mean
from cjkit.io import sources
from cjkit.report.core import FunnelReport


def missing_step_events(
    events: sources.Events, spec: FunnelSpec, report: FunnelReport
) -> list[str]:
    """Return a warning per step event name that never occurs in the data (none when every
    step reached some unit). Names are sorted by step; a hint names the closest event seen.
    Run it inside ``api.core.read_errors`` (it reads the events once more)."""
    empty = [
        step for step, result in zip(spec.steps, report.steps, strict=False) if result.count == 0
    ]
    names = list(dict.fromkeys(m.name for step in empty for m in step.matchers))
    if not names:
        return []
    seen = (
        events.clean()
        .group_by("event")
        .agg(pl.len().alias("n"))
        .sort("n", descending=True)
        .head(10_000)  # did-you-mean needs the names, not a 500k-value list
        .collect()
    )
    present = set(seen["event"].cast(pl.String).to_list())
    out = []
    for name in names:
        if name in present:
            continue
        hint = did_you_mean(name, [p for p in present if p is not None])
        out.append(
            f"step event '{name}' never occurs in the data" + (f"; {hint}" if hint else "")
        )
    return out
