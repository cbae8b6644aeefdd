"""Assemble the full report page from a JourneyReport: header, findings, then every section."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cjkit.render.html.cohorts import lifecycle_section, stickiness_section
from cjkit.render.html.funnel import funnel_chart, segments_section, trends_section, ttc_section
from cjkit.render.html.i18n import Words
from cjkit.render.html.page import Section, render
from cjkit.render.html.paths import paths_section
from cjkit.render.html.stages import stage_section, targets_section
from cjkit.report.core import segment_text
from cjkit.report.report import JourneyReport


def _local_day(moment: str | None, tz: str) -> str:
    """Return the local calendar day of an ISO instant (the day the user typed), or ``…``."""
    if not moment:
        return "…"
    try:
        return datetime.fromisoformat(moment).astimezone(ZoneInfo(tz)).date().isoformat()
    except (ValueError, ZoneInfoNotFoundError):
        return moment


def header_rows(report: JourneyReport, t: Words) -> list[tuple[str, str]]:
    """Return the header's (label, value) pairs: model, source, range, population, how made."""
    m = report.metrics
    src, settings = m.source, m.settings
    files = ", ".join(src.get("files") or [])
    since, until = settings.get("since"), settings.get("until")
    data_range = f"{(src.get('start') or '')[:10]} → {(src.get('end') or '')[:10]}"
    if since or until:
        tz = str(settings.get("timezone") or "UTC")
        data_range = (
            f"{_local_day(since, tz)} → {_local_day(until, tz)} ({t('source')}: {data_range})"
        )
    first = m.stages[0] if m.stages else None
    pop = m.population.get("units", 0)
    model = m.model.get("name") or m.model.get("id")
    if m.model.get("file"):
        model = f"{model} ({m.model['file']})"
    order = t(str(settings.get("order", "ordered")))
    rows = [
        (t("model"), str(model)),
        (
            t("source"),
            f"{files} · "
            + t("events_units", rows=t.whole(src.get("rows")), units=t.whole(src.get("units"))),
        ),
        (t("range"), data_range),
        (
            t("population"),
            t(
                "population_text",
                units=t.whole(pop),
                stage=report.labels.get(first.id, first.name) if first else "–",
            ),
        ),
        (
            t("settings"),
            t(
                "settings_text",
                order=order,
                window=t.duration(settings.get("window_seconds")),
                period=t(str(settings.get("period", "week"))),
                tz=settings.get("timezone", "UTC"),
            ),
        ),
        (t("command"), str(report.meta.get("command") or "")),
    ]
    return rows


SHOWN_FINDINGS = 10  # the top of the ranked list; the JSON has them all


def _findings(findings: dict[str, Any] | None) -> list[str]:
    if not findings:
        return []
    items = findings.get("findings") if isinstance(findings, dict) else None
    out = []
    for f in (items or [])[:SHOWN_FINDINGS]:
        text = f.get("statement") if isinstance(f, dict) else f
        if text:
            out.append(str(text))
    return out


def _marks(findings: dict[str, Any] | None) -> dict[tuple[str, str, str], bool]:
    """Return the (column, segment, stage id) cells that diagnose found significantly different."""
    out: dict[tuple[str, str, str], bool] = {}
    for f in (findings or {}).get("findings") or []:
        seg, stage = f.get("segment"), f.get("stage")
        if f.get("kind") == "segment" and seg and stage:
            out[(str(seg.get("column")), segment_text(seg.get("value")), str(stage.get("id")))] = (
                True
            )
    return out


def build(report: JourneyReport) -> str:
    """Return the HTML page of every section of the report."""
    t = Words(str(report.meta.get("lang") or "en"))
    m = report.metrics
    names = [report.labels.get(s.id, s.name) for s in m.stages]
    overview = Section("funnel", t("overview"), intro=[t("overview_intro")], doc="1-the-numbers")
    ttc = [s.numbers.time_to_convert for s in m.stages]
    overview.charts.append(
        funnel_chart(
            "funnel-chart",
            names,
            [s.numbers.count for s in m.stages],
            [s.numbers.drop_off for s in m.stages],
            [s.numbers.conversion_from_start for s in m.stages],
            [s.numbers.conversion_from_previous for s in m.stages],
            [s.numbers.ci.get("conversion_from_start") for s in m.stages],
            [s.numbers.ci.get("conversion_from_previous") for s in m.stages],
            [x.median_s if x else None for x in ttc],
            [x.p90_s if x else None for x in ttc],
            t,
        )
    )
    period = str(m.settings.get("period", "week"))
    sections = [overview]
    sections += [stage_section(s, name, period, t) for s, name in zip(m.stages, names, strict=True)]
    if m.breakdowns:
        overall = [s.numbers.conversion_from_start for s in m.stages]
        sections.append(segments_section(m.breakdowns, names, overall, t, _marks(report.findings)))
    sections.append(trends_section(report.trends, names, report.trend_period, t))
    sections.append(
        ttc_section(
            report.histograms,
            dict(zip([s.id for s in m.stages], names, strict=True)),
            m.settings.get("window_seconds"),
            t,
        )
    )
    if report.lifecycle is not None:
        sections.append(lifecycle_section(report.lifecycle, t))
    if report.stickiness is not None:
        sections.append(stickiness_section(report.stickiness, t))
    if report.paths:
        sections.append(paths_section(report.paths, t))
    if m.checks:
        sections.append(targets_section(m.checks, t))
    footer = t(
        "made_with", version=report.meta.get("cjkit_version"), when=report.meta.get("generated_at")
    )
    if report.omitted:
        footer += " · " + t("omitted") + ": " + "; ".join(report.omitted)
    return render(
        words=t,
        title=str(m.model.get("name") or m.model.get("id")),
        subtitle="",
        header=header_rows(report, t),
        sections=sections,
        findings=_findings(report.findings),
        warnings=report.warnings,
        footer=footer,
        data=report.to_dict(),
    )
