"""One-analysis pages (``--format html`` on funnel, retention, lifecycle, stickiness, paths)."""

from __future__ import annotations

from typing import Any

from cjkit import __version__
from cjkit.render.html.cohorts import lifecycle_section, retention_charts, stickiness_section
from cjkit.render.html.funnel import funnel_chart
from cjkit.render.html.i18n import Words
from cjkit.render.html.page import Section, render
from cjkit.render.html.paths import paths_section
from cjkit.report import FunnelReport, LifecycleReport, RetentionReport, StickinessReport
from cjkit.report.paths import PathsReport

One = FunnelReport | RetentionReport | LifecycleReport | StickinessReport | PathsReport


def _funnel(report: FunnelReport, t: Words) -> list[Section]:
    steps = report.steps
    ttc = [s.time_to_convert for s in steps]
    section = Section("funnel", t("overview"), intro=[t("overview_intro")], doc="1-the-numbers")
    section.charts.append(
        funnel_chart(
            "funnel-chart",
            [s.name for s in steps],
            [s.count for s in steps],
            [s.drop_off for s in steps],
            [s.conversion_from_start for s in steps],
            [s.conversion_from_previous for s in steps],
            [s.ci.get("conversion_from_start") for s in steps],
            [s.ci.get("conversion_from_previous") for s in steps],
            [x.median_s if x else None for x in ttc],
            [x.p90_s if x else None for x in ttc],
            t,
        )
    )
    return [section]


def _retention(report: RetentionReport, t: Words) -> list[Section]:
    section = Section("retention", t("retention"), doc="retention-cjkit-retention")
    section.charts.extend(retention_charts(report, t))
    return [section]


def _source(report: One) -> str:
    source: dict[str, Any] = getattr(report, "source", {}) or {}
    return ", ".join(source.get("files") or [])


def build(report: One, lang: str) -> str:
    """Return the page of one analysis."""
    t = Words(lang)
    if isinstance(report, FunnelReport):
        sections = _funnel(report, t)
    elif isinstance(report, RetentionReport):
        sections = _retention(report, t)
    elif isinstance(report, LifecycleReport):
        sections = [lifecycle_section(report, t)]
    elif isinstance(report, PathsReport):
        sections = [paths_section(report.to_dict(), t)]
    else:
        sections = [stickiness_section(report, t)]
    settings = getattr(report, "settings", {}) or {}
    header = [(t("source"), _source(report) or "–")]
    header += [
        (str(k), str(v))
        for k, v in settings.items()
        if v is not None and not isinstance(v, list | dict)
    ]
    return render(
        words=t,
        title=t(f"analysis_{report.kind}"),
        subtitle="",
        header=header,
        sections=sections,
        warnings=list(getattr(report, "warnings", []) or []),
        footer=f"cjkit {__version__}",
        data=report.to_dict(),
    )
