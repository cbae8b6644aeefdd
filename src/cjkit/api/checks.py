"""Checks that keep a report from being silently wrong: steps whose events never occur.

A misspelt step (``-s purchse``) gives 0 units at 0.0% like a real drop-off would. When a
step (or a model's stage) reaches no unit, one extra query over the events asks whether its
event names occur at all; those that don't become a warning with the closest name in the
data (did you mean …?), or an error with ``ReadOptions.strict`` (``--strict``). The query
only runs in that case, so ordinary funnels cost nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cjkit.engine.funnel.journeys import FunnelSpec
from cjkit.errors import InputError, did_you_mean
from cjkit.io import sources
from cjkit.report.core import FunnelReport


def missing_step_events(
    events: sources.Events, spec: FunnelSpec, report: FunnelReport, kind: str = "step"
) -> list[str]:
    """Return a warning per step event name that never occurs in the data (none when every
    step reached some unit). Names are sorted by step; a hint names the closest event seen.
    Run it inside ``api.core.read_errors`` (it reads the events once more). ``kind`` is
    ``stage`` when the steps are a model's stages."""
    empty = [
        step for step, result in zip(spec.steps, report.steps, strict=False) if result.count == 0
    ]
    named = [(step.name, m.name) for step in empty for m in step.matchers]
    return missing_events(events, named, kind)


def missing_events(
    events: sources.Events, named: Sequence[tuple[str, str]], kind: str = "step"
) -> list[str]:
    """Return a warning per event name of ``named`` (``(step or stage name, event name)``
    pairs) that never occurs in the data, with the closest name seen as a hint. Reads the
    events once, only when ``named`` is not empty; run it inside ``api.core.read_errors``."""
    owners: dict[str, str] = {}
    for owner, name in named:
        owners.setdefault(name, owner)
    if not owners:
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
    for name, owner in owners.items():
        if name in present:
            continue
        hint = did_you_mean(name, [p for p in present if p is not None])
        where = f" (of {kind} '{owner}')" if owner != name else ""
        out.append(
            f"{kind} event '{name}'{where} never occurs in the data" + (f"; {hint}" if hint else "")
        )
    return out


def report_missing(warnings: list[str], missing: Sequence[str], *, strict: bool) -> None:
    """Add ``missing`` to ``warnings``; under ``strict``, raise the first as an InputError
    (one line: the event, its step or stage, the did-you-mean, and how many more)."""
    if strict and missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"{missing[0]}{more}")
    warnings.extend(missing)
