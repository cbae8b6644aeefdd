"""Cohort charts: the retention heatmap, curve and churn; lifecycle bars; stickiness bars."""

from __future__ import annotations

from typing import Any

from cjkit.render.html.i18n import Words
from cjkit.render.html.page import (
    PALETTE,
    SEQUENTIAL,
    Cell,
    Chart,
    Kpi,
    Section,
    Table,
    base_layout,
    cell_num,
)
from cjkit.report.cohorts import LifecycleReport, RetentionReport, StickinessReport

DOC_RETENTION = "retention-cjkit-retention"
DOC_LIFECYCLE = "lifecycle-cjkit-lifecycle"
DOC_STICKINESS = "stickiness-cjkit-stickiness"


def _axis(period: object) -> str:
    """Return the x-axis type for period start dates: dates, except quarters (categories)."""
    return "category" if period == "quarter" else "date"


def retention_charts(report: RetentionReport, t: Words, prefix: str = "retention") -> list[Chart]:
    """Return the cohort heatmap (share and count on hover), the curve, and churn per period."""
    period = t(str(report.settings.get("period", "week")))
    n = max((len(c.counts) for c in report.cohorts), default=0)
    ks = [t("period_k", period=period, k=k) for k in range(1, n)]
    # Empty cohorts (no unit started then) are rows of nothing: the table keeps them.
    shown = [c for c in report.cohorts if c.size > 0]
    cohorts = [c.cohort for c in shown]
    z: list[list[float | None]] = []
    custom: list[list[list[int]]] = []
    text: list[list[str]] = []
    for c in shown:
        zr: list[float | None] = []
        tr: list[str] = []
        for k in range(1, n):
            # Only complete cells are coloured: a period still running reads low.
            done = k < len(c.rates) and c.complete[k]
            rate = c.rates[k] if done else None
            zr.append(rate)
            tr.append(t.pct(rate, 0) if rate is not None else "")
        z.append(zr)
        text.append(tr)
        custom.append([[c.counts[k] if k < len(c.counts) else 0, c.size] for k in range(1, n)])
    top = max((v for row in z for v in row if v is not None), default=1.0) or 1.0
    heat = {
        "data": [
            {
                "type": "heatmap",
                "x": ks,
                "y": cohorts,
                "z": z,
                "text": text,
                "texttemplate": "%{text}",
                "textfont": {"size": 10},
                "customdata": custom,
                "colorscale": SEQUENTIAL,
                "zmin": 0,
                "zmax": top,
                "xgap": 1,
                "ygap": 1,
                "colorbar": {"tickformat": ".0%", "thickness": 12},
                "hoverongaps": False,
                "hovertemplate": t("cohort")
                + " %{y} · %{x}<br>%{z:.1%} (%{customdata[0]:,} / %{customdata[1]:,})<extra></extra>",
            }
        ],
        "layout": base_layout(
            t,
            yaxis={"autorange": "reversed", "type": "category"},
            xaxis={"type": "category", "side": "top"},
            margin={"l": 96, "t": 40, "b": 16},
        ),
    }
    rows = [
        [Cell(c.cohort), cell_num(t.whole(c.size), c.size)]
        + [
            cell_num(t.pct(c.rates[k]) if c.rates[k] is not None else "", c.rates[k])
            if k < len(c.rates)
            else Cell("")
            for k in range(1, n)
        ]
        for c in report.cohorts
    ]
    heat_table = Table([t("cohort"), t("size"), *ks], rows, key=f"{prefix}:cohorts")
    height = max(260, 50 + 22 * len(cohorts))
    charts = [
        Chart(
            f"{prefix}-heatmap",
            t("retention_heatmap", period=period),
            heat,
            heat_table,
            DOC_RETENTION,
            note=t("retention_note"),
            height=height,
        )
    ]

    avg = report.average
    xs = list(range(1, len(avg.rates)))
    rates = avg.rates[1:]
    lows = [c["low"] if c else None for c in avg.ci[1:]]
    highs = [c["high"] if c else None for c in avg.ci[1:]]
    churn_x = [p.period for p in report.periods if p.churn_rate is not None]
    churn_y = [p.churn_rate for p in report.periods if p.churn_rate is not None]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": xs,
            "y": highs,
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": xs,
            "y": lows,
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": "rgba(59,111,216,0.15)",
            "name": t("ci95"),
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": xs,
            "y": rates,
            "mode": "lines+markers",
            "name": t("avg_retention"),
            "line": {"color": PALETTE[0], "width": 3},
            "hovertemplate": period + " %{x}: %{y:.1%}<extra></extra>",
        },
    ]
    curve = {
        "data": data,
        "layout": base_layout(
            t,
            yaxis={
                "tickformat": ".0%",
                "rangemode": "tozero",
                "title": {"text": t("avg_retention")},
            },
            xaxis={"title": {"text": period}, "dtick": 1},
        ),
    }
    curve_rows = [
        [
            Cell(t("period_k", period=period, k=k)),
            cell_num(t.pct(r), r),
            Cell(t.ci(ci)),
            cell_num(t.whole(cnt), cnt),
            cell_num(t.whole(size), size),
        ]
        for k, r, ci, cnt, size in zip(
            xs, rates, avg.ci[1:], avg.counts[1:], avg.sizes[1:], strict=True
        )
    ]
    curve_table = Table(
        [t("period"), t("avg_retention"), t("ci95"), t("units"), t("size")],
        curve_rows,
        key=f"{prefix}:average",
    )
    charts.append(Chart(f"{prefix}-curve", t("retention_curve"), curve, curve_table, DOC_RETENTION))
    if churn_x:
        churn = {
            "data": [
                {
                    "type": "bar",
                    "x": churn_x,
                    "y": churn_y,
                    "name": t("churn_rate"),
                    "marker": {
                        "color": [
                            PALETTE[3] if p.complete else "#e7b3c5"
                            for p in report.periods
                            if p.churn_rate is not None
                        ]
                    },
                    "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
                }
            ],
            "layout": base_layout(
                t,
                yaxis={"tickformat": ".0%", "title": {"text": t("churn_rate")}},
                xaxis={"type": _axis(report.settings.get("period"))},
            ),
        }
        churn_rows = [
            [
                Cell(p.period),
                cell_num(t.whole(p.active), p.active),
                cell_num(t.whole(p.lost), p.lost),
                cell_num(t.pct(p.churn_rate), p.churn_rate),
                Cell(t("yes") if p.complete else t("no"), p.complete),
            ]
            for p in report.periods
            if p.churn_rate is not None
        ]
        churn_table = Table(
            [t("period"), t("units"), t("dormant"), t("churn_rate"), t("complete")],
            churn_rows,
            key=f"{prefix}:churn",
        )
        charts.append(
            Chart(
                f"{prefix}-churn",
                t("churn_by_period", period=period),
                churn,
                churn_table,
                DOC_RETENTION,
                height=300,
            )
        )
    return charts


def lifecycle_section(report: LifecycleReport, t: Words) -> Section:
    """Return the lifecycle section: stacked bars per period, dormant below zero."""
    period = t(str(report.settings.get("period", "week")))
    section = Section(
        "lifecycle", t("lifecycle"), intro=[t("lifecycle_intro", period=period)], doc=DOC_LIFECYCLE
    )
    x = [p.period for p in report.periods]
    states = [
        ("new", PALETTE[0]),
        ("returning", PALETTE[2]),
        ("resurrecting", PALETTE[1]),
        ("dormant", "#c2413b"),
    ]
    data = [
        {
            "type": "bar",
            "name": t(s),
            "x": x,
            "y": [getattr(p, s) for p in report.periods],
            "marker": {
                "color": color,
                "opacity": [1 if p.complete else 0.45 for p in report.periods],
            },
            "hovertemplate": t(s) + " %{x}: %{y:,}<extra></extra>",
        }
        for s, color in states
    ]
    figure = {
        "data": data,
        "layout": base_layout(
            t,
            barmode="relative",
            bargap=0.15,
            yaxis={"title": {"text": t("units")}},
            xaxis={"type": _axis(report.settings.get("period"))},
        ),
    }
    rows = [
        [Cell(p.period)]
        + [cell_num(t.whole(getattr(p, s)), getattr(p, s)) for s, _ in states]
        + [Cell(t("yes") if p.complete else t("no"), p.complete)]
        for p in report.periods
    ]
    table = Table([t("period"), *[t(s) for s, _ in states], t("complete")], rows, key="lifecycle")
    section.charts.append(
        Chart(
            "lifecycle-chart",
            t("lifecycle_chart", period=period),
            figure,
            table,
            DOC_LIFECYCLE,
            height=380,
        )
    )
    return section


def stickiness_section(report: StickinessReport, t: Words) -> Section:
    """Return the stickiness section: units active in exactly n periods."""
    period = t(str(report.settings.get("period", "week")))
    section = Section(
        "stickiness",
        t("stickiness"),
        intro=[t("stickiness_intro", total=report.total_periods, period=period)],
        doc=DOC_STICKINESS,
    )
    section.kpis.append(
        Kpi(
            t("avg_active"),
            t.num(report.avg_active_periods),
            report.avg_active_periods,
            key="stickiness:avg_active_periods",
        )
    )
    x = [c["periods"] for c in report.counts]
    y = [c["units"] for c in report.counts]
    share = [u / report.units if report.units else None for u in y]
    figure = {
        "data": [
            {
                "type": "bar",
                "x": x,
                "y": y,
                "customdata": share,
                "marker": {"color": PALETTE[4]},
                "hovertemplate": "%{x}: %{y:,} (%{customdata:.1%})<extra></extra>",
            }
        ],
        "layout": base_layout(
            t,
            yaxis={"title": {"text": t("units")}},
            xaxis={"title": {"text": t("active_periods")}, "dtick": 1},
        ),
    }
    rows = [
        [Cell(str(n)), cell_num(t.whole(u), u), cell_num(t.pct(s), s)]
        for n, u, s in zip(x, y, share, strict=True)
    ]
    table = Table([t("active_periods"), t("units"), t("share")], rows, key="stickiness")
    section.charts.append(
        Chart(
            "stickiness-chart",
            t("stickiness_chart", period=period),
            figure,
            table,
            DOC_STICKINESS,
            height=320,
        )
    )
    return section
