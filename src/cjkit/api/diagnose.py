"""``cjkit diagnose``: the bottleneck finder, and ``cjkit journey``: one unit's timeline.

:func:`diagnose` runs one insight pass over the model's stages as a funnel
(:func:`cjkit.api.insight.run`): the report's range (``--since``/``--until``, or all data)
for drops and segments, and with ``--compare`` the current and compared periods beside it.
Each of the map's ``segments:`` and ``--by`` columns is broken down on its own. Correlated
events are read for the step with the largest drop. Every p-value of the report is corrected
together (Benjamini–Hochberg at ``--alpha``). Map targets come from the metrics report, which
reads the events again, only when the map has targets. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cjkit.api.core import FunnelOptions, ReadOptions
from cjkit.api.insight import InsightOptions, run
from cjkit.api.insight_blocks import correlate, segment_report
from cjkit.engine.insight import compare
from cjkit.engine.insight.findings import Builder
from cjkit.errors import UsageError
from cjkit.maps import loader
from cjkit.report.diagnose import DiagnoseReport

DEFAULT_TOP = 20  # segments per column; the rest fold into (other)
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class DiagnoseOptions:
    """The flags of ``cjkit diagnose``."""

    model: str
    by: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    compare: str | None = None
    alpha: float = 0.05
    top: int = DEFAULT_TOP
    limit: int = DEFAULT_LIMIT
    correlate: str | None = None
    correlate_exclude: tuple[str, ...] = ()
    period: str | None = None
    targets: bool = True
    read: ReadOptions = field(default_factory=ReadOptions)


def diagnose(paths: Sequence[str], options: DiagnoseOptions) -> DiagnoseReport:
    """Return the ranked findings for ``options.model`` on the events under ``paths``."""
    if options.limit < 1:
        raise UsageError(f"limit: expected at least 1, got {options.limit}", option="limit")
    loaded = loader.load(options.model)
    model = options.read.adapt(loaded.map)
    columns = tuple(dict.fromkeys([*model.segments, *options.by]))
    fopts = FunnelOptions(
        model=options.model, since=options.since, until=options.until, by=columns, read=options.read
    )
    # --top folds segments; with no segment columns there is nothing to fold.
    top = options.top if columns else None
    insight = InsightOptions(
        compare=options.compare, alpha=options.alpha, top=top, period=options.period
    )
    result = run(paths, fopts, insight, extra_ranges=True, by_each=True, mark=False)
    report, spec = result.report, result.spec
    main = "all" if "all" in result.units else "now"
    units = result.units[main]
    family = list(result.family)
    by_column = {}
    for column in columns:
        one = replace(spec, by=(column,))
        seg, cells, _ = segment_report(units, one, options.top, dict(report.settings))
        by_column[column] = seg
        family.extend(cells)
    builder = Builder(report, model.stage_ids())
    worst = max(report.steps[1:], key=lambda s: (s.drop_off, -s.index), default=None)
    block = None
    if worst is not None and worst.drop_off > 0:
        props = _properties(options.correlate, columns)
        block = correlate(
            result.events,
            units,
            spec,
            step=worst.index,
            base_step=worst.index - 1,
            properties=props,
            exclude=options.correlate_exclude,
        )
        family.extend(block["results"])
    compare.mark_significant(family, options.alpha)
    builder.drops()
    for seg in by_column.values():
        builder.segments(seg)
    if "then" in result.ranges:
        then = result.ranges["then"]
        label = (
            f"{then.since:%Y-%m-%d}..{then.until:%Y-%m-%d}"
            if then.since and then.until
            else "the compared period"
        )
        changes = report.extra["compare"].get("changes")
        with_change = (
            report.steps
            if changes is None
            else [
                replace(s, extra={**s.extra, "change": ch})
                for s, ch in zip(report.steps, changes, strict=True)
            ]
        )
        builder_now = Builder(replace(report, steps=with_change), model.stage_ids())
        now_counts = [s["count"] for s in report.extra["compare"]["now_steps"]]
        builder_now.changes(f"the period {label}", now_counts)
        builder.out.extend(builder_now.out)
    if block is not None and worst is not None:
        builder.correlations(block, worst.index)
    warnings = list(result.warnings)
    if options.targets and model.targets:
        from cjkit.api.metrics import MetricsOptions, metrics

        checked = metrics(
            paths,
            MetricsOptions(
                model=options.model,
                since=options.since,
                until=options.until,
                breakdowns=False,
                read=options.read,
            ),
        )
        builder.targets([c.to_dict() for c in checked.checks], model.stage_ids())
        # The metrics pass checks every stage event (a misspelt alternative too): keep its word.
        warnings.extend(w for w in checked.warnings if w not in warnings)
    ranked = builder.ranked()
    # --limit cuts the ranked list, but never hides a failing target (a broken goal).
    shown = ranked[: options.limit] + [
        f for f in ranked[options.limit :] if f.kind == "target" and "fails" in f.statement
    ]
    settings = {
        **report.settings,
        "segments": list(columns),
        "top": options.top,
        "limit": options.limit,
        "findings_total": len(ranked),
    }
    if "then" in result.ranges:
        settings["significant_changes"] = sum(f.kind in ("change", "slowdown") for f in ranked)
        settings["compared"] = {
            "then": result.ranges["then"].as_dict(),
            "now": result.ranges["now"].as_dict(),
        }
    stage_rows = [
        {
            "id": sid,
            "index": s.index,
            "name": s.name,
            "count": s.count,
            "conversion_from_previous": s.conversion_from_previous,
            "conversion_from_start": s.conversion_from_start,
            "drop_off": s.drop_off,
        }
        for sid, s in zip(model.stage_ids(), report.steps, strict=True)
    ]
    return DiagnoseReport(settings, shown, steps=stage_rows, warnings=warnings)


def _properties(mode: str | None, columns: Sequence[str]) -> list[str]:
    if not mode or mode == "events":
        return []
    if mode == "properties":
        return list(columns)
    return [p.strip() for p in mode.split(",") if p.strip()]


def summary_rows(report: DiagnoseReport) -> list[dict[str, Any]]:
    """Return the report's stage counts (the table's header block)."""
    return report.steps
