"""Which function draws which report, keyed by the report's class (no lookup by name).

:func:`table` is the rich renderable of ``--format table``, and what ``rich.print(report)``
shows in a notebook (:meth:`cjkit.report.serial.Document.__rich__` calls :func:`renderable`).
:func:`markdown` is a report's own Markdown, or None where the tidy rows as a table serve.
The renderer modules load on the first drawing, never on ``import cjkit``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from cjkit.report import folding

Table = Callable[[Any, bool], RenderableType]
Markdown = Callable[[Any], str]


@cache
def _drawers() -> tuple[dict[type, Table], dict[type, Markdown]]:
    from cjkit.render import clv, cohorts, diagnose, metrics, paths
    from cjkit.render import table as core
    from cjkit.report import clv as clv_report
    from cjkit.report import cohorts as cohort_reports
    from cjkit.report import core as core_reports
    from cjkit.report import diagnose as diagnose_reports
    from cjkit.report import metrics as metrics_reports
    from cjkit.report import paths as paths_report
    from cjkit.report import report as report_view

    tables: dict[type, Table] = {
        core_reports.FunnelReport: core.funnel_table,
        core_reports.InspectReport: core.inspect_table,
        core_reports.ValidateReport: core.validate_table,
        core_reports.ModelsReport: core.models_table,
        core_reports.ModelReport: core.model_table,
        cohort_reports.RetentionReport: cohorts.retention_table,
        cohort_reports.LifecycleReport: cohorts.lifecycle_table,
        cohort_reports.StickinessReport: cohorts.stickiness_table,
        metrics_reports.MetricsReport: metrics.metrics_table,
        metrics_reports.CheckReport: metrics.check_table,
        paths_report.PathsReport: paths.paths_table,
        clv_report.ClvReport: clv.clv_table,
        diagnose_reports.DiagnoseReport: diagnose.diagnose_table,
        diagnose_reports.JourneyReport: diagnose.journey_table,
        # The HTML report's data in a terminal: its metrics report, as ``cjkit metrics`` draws it.
        report_view.JourneyReport: lambda r, explain: metrics.metrics_table(r.metrics, explain),
    }
    markdowns: dict[type, Markdown] = {
        cohort_reports.RetentionReport: cohorts.retention_markdown,
        metrics_reports.MetricsReport: metrics.metrics_markdown,
        metrics_reports.CheckReport: metrics.check_markdown,
        paths_report.PathsReport: paths.paths_markdown,
        clv_report.ClvReport: clv.clv_markdown,
        diagnose_reports.DiagnoseReport: diagnose.diagnose_markdown,
    }
    return tables, markdowns


def table(report: Any, explain: bool = False) -> RenderableType:
    """Return the rich table of ``report`` (TypeError for an object that is no report)."""
    drawer = _drawers()[0].get(type(report))
    if drawer is None:
        msg = f"no table for {type(report).__name__}"
        raise TypeError(msg)
    return drawer(report, explain)


def markdown(report: Any) -> str | None:
    """Return the report's own Markdown, or None when its tidy rows as a table serve."""
    drawer = _drawers()[1].get(type(report))
    return None if drawer is None else drawer(report)


def renderable(report: Any, explain: bool = False) -> RenderableType:
    """Return what ``--format table`` prints for ``report``: its table, and a dim line under it
    for each folded breakdown (:func:`cjkit.report.folding.lines`)."""
    drawn = table(report, explain)
    notes = folding.lines(report)
    if not notes:
        return drawn
    return Group(drawn, *(Text(line, style="dim") for line in notes))
