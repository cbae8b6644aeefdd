"""Funnel sections: the stage bars with drop-off, segments, trends and time-to-convert."""

from __future__ import annotations

from typing import Any

from cjkit.render.html.i18n import Words
from cjkit.render.html.page import (
    DIVERGING,
    MUTED,
    PALETTE,
    Cell,
    Chart,
    Section,
    Table,
    base_layout,
    cell_num,
)
from cjkit.report.core import segment_text
from cjkit.report.metrics import Breakdown
from cjkit.report.report import TimeHistogram, TrendPeriod

DOC_FUNNEL = "1-the-numbers"
DOC_TTC = "time-to-convert-in-bins"
DOC_TREND = "conversion-by-entry-period"
DOC_SEGMENTS = "segments-in-the-report"


def funnel_chart(
    chart_id: str,
    names: list[str],
    counts: list[int],
    drops: list[int],
    of_start: list[float | None],
    of_prev: list[float | None],
    ci_start: list[dict[str, float] | None],
    ci_prev: list[dict[str, float] | None],
    medians: list[float | None],
    p90s: list[float | None],
    t: Words,
) -> Chart:
    """Return the funnel chart: reached units per stage with the drop-off stacked above."""
    # The label sits above each stack: the units reached and their share of the start.
    labels = [f"<b>{t.whole(c)}</b> · {t.pct(v)}" for c, v in zip(counts, of_start, strict=True)]
    hover = [
        f"<b>{n}</b><br>{t('units')}: {t.whole(c)}<br>{t('of_start')}: {t.pct(s)} ({t.ci(cs)})"
        f"<br>{t('of_prev')}: {t.pct(p)}<br>{t('median_time')}: {t.duration(m)}"
        for n, c, s, cs, p, m in zip(
            names, counts, of_start, ci_start, of_prev, medians, strict=True
        )
    ]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": t("reached"),
                "x": names,
                "y": counts,
                "marker": {"color": PALETTE[0]},
                "hovertext": hover,
                "hoverinfo": "text",
            },
            {
                "type": "bar",
                "name": t("dropped"),
                "x": names,
                "y": drops,
                "text": labels,
                "textposition": "outside",
                "cliponaxis": False,
                "textfont": {"size": 13, "color": "#1f2937"},
                "marker": {"color": MUTED},
                "hovertemplate": "%{x}<br>" + t("drop_off") + ": %{y:,}<extra></extra>",
            },
        ],
        "layout": base_layout(
            t,
            barmode="stack",
            yaxis={"title": {"text": t("units")}, "rangemode": "tozero"},
            xaxis={"type": "category"},
            legend={"traceorder": "normal"},
        ),
    }
    rows = [
        [
            Cell(n),
            cell_num(t.whole(c), c),
            cell_num(t.pct(s), s),
            Cell(t.ci(cs)),
            cell_num(t.pct(p), p),
            Cell(t.ci(cp)),
            cell_num(t.whole(d), d),
            cell_num(t.duration(m), m),
            cell_num(t.duration(q), q),
        ]
        for n, c, s, cs, p, cp, d, m, q in zip(
            names, counts, of_start, ci_start, of_prev, ci_prev, drops, medians, p90s, strict=True
        )
    ]
    table = Table(
        [
            t("stage"),
            t("units"),
            t("of_start"),
            t("ci95"),
            t("of_prev"),
            t("ci95"),
            t("drop_off"),
            t("median_time"),
            t("p90_time"),
        ],
        rows,
        key="funnel",
    )
    return Chart(chart_id, t("funnel_chart"), figure, table, DOC_FUNNEL, height=380)


def segments_section(
    breakdowns: list[Breakdown],
    names: list[str],
    overall: list[float | None],
    t: Words,
    significance: dict[tuple[str, str, str], bool] | None = None,
) -> Section:
    """Return the segments section: a heatmap of conversion from the start per segment × stage.

    ``significance`` maps (by, segment text, stage id) to True for a cell that differs from
    the rest of the units (diagnose's ``vs_rest``); such cells get a ● mark. The colour is
    the segment's conversion relative to all units' (``overall``), so weak cells stand out.
    """
    section = Section("segments", t("segments"), doc=DOC_SEGMENTS)
    if not breakdowns:
        section.intro.append(t("no_segments"))
        return section
    marks = significance or {}
    for b in breakdowns:
        segs = [segment_text(g.value) for g in b.groups]
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        custom: list[list[list[Any]]] = []
        for g, seg in zip(b.groups, segs, strict=True):
            zr, tr, cr = [], [], []
            for st, base in zip(g.stages[1:], overall[1:], strict=True):
                mark = " ●" if marks.get((b.by, seg, st.id)) else ""
                rate = st.conversion_from_start
                lift = rate / base - 1 if rate is not None and base else None
                zr.append(None if lift is None else max(-1.0, min(1.0, lift)))
                tr.append(t.pct(st.conversion_from_start) + mark)
                cr.append([st.count, g.units, base])
            z.append(zr)
            text.append(tr)
            custom.append(cr)
        figure = {
            "data": [
                {
                    "type": "heatmap",
                    "x": names[1:],
                    "y": segs,
                    "z": z,
                    "text": text,
                    "texttemplate": "%{text}",
                    "customdata": custom,
                    "colorscale": DIVERGING,
                    "zmin": -0.5,
                    "zmax": 0.5,
                    "xgap": 2,
                    "ygap": 2,
                    "colorbar": {
                        "tickformat": "+.0%",
                        "thickness": 12,
                        "title": {"text": t("vs_all"), "side": "right"},
                    },
                    "hovertemplate": "%{y} · %{x}<br>%{text} (%{customdata[0]:,} / %{customdata[1]:,})"
                    "<br>" + t("all_units") + ": %{customdata[2]:.1%}<extra></extra>",
                }
            ],
            "layout": base_layout(
                t,
                yaxis={"autorange": "reversed", "type": "category"},
                xaxis={"type": "category", "side": "top"},
                margin={"l": 120, "t": 40, "b": 20},
            ),
        }
        rows = [
            [Cell(seg), cell_num(t.whole(g.units), g.units)]
            + [
                cell_num(t.pct(st.conversion_from_start), st.conversion_from_start)
                for st in g.stages
            ]
            for g, seg in zip(b.groups, segs, strict=True)
        ]
        table = Table([t("segment"), t("units"), *names], rows, key=f"segments:{b.by}")
        height = max(220, 60 + 34 * len(segs))
        note = t("significant") if any(k[0] == b.by for k in marks) else ""
        if not section.intro:
            section.intro.append(t("segments_intro", by=", ".join(x.by for x in breakdowns)))
        section.charts.append(
            Chart(
                f"segments-{_slug(b.by)}",
                t("segments_chart", by=b.by),
                figure,
                table,
                DOC_SEGMENTS,
                note=note,
                height=height,
            )
        )
    return section


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def trends_section(trends: list[TrendPeriod], names: list[str], period: str, t: Words) -> Section:
    """Return the trends section: conversion to each later stage by entry period."""
    p = t(period)
    section = Section("trends", t("trends"), intro=[t("trends_intro", period=p)], doc=DOC_TREND)
    if not trends:
        return section
    x = [r.period for r in trends]
    data: list[dict[str, Any]] = []
    for k in range(1, len(names)):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": names[k],
                "x": x,
                "y": [r.conversion[k] for r in trends],
                "line": {"color": PALETTE[(k - 1) % len(PALETTE)], "width": 2},
                "marker": {"size": 5},
                "hovertemplate": names[k] + "<br>%{x}: %{y:.1%}<extra></extra>",
            }
        )
    shapes = []
    first_open = next((i for i, r in enumerate(trends) if not r.complete), None)
    if first_open is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": x[max(0, first_open - 1)] if first_open else x[0],
                "x1": x[-1],
                "y0": 0,
                "y1": 1,
                "fillcolor": "#9ca3af",
                "opacity": 0.15,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    figure = {
        "data": data,
        "layout": base_layout(
            t,
            shapes=shapes,
            yaxis={"tickformat": ".0%", "rangemode": "tozero", "title": {"text": t("of_start")}},
            xaxis={"type": "date" if period != "quarter" else "category"},
            annotations=[
                {
                    "xref": "x",
                    "yref": "paper",
                    "x": x[-1],
                    "y": 1,
                    "text": t("incomplete"),
                    "showarrow": False,
                    "xanchor": "right",
                    "yanchor": "bottom",
                    "font": {"size": 11, "color": "#6b7280"},
                }
            ]
            if first_open is not None
            else [],
        ),
    }
    rows = [
        [Cell(r.period), cell_num(t.whole(r.entered), r.entered)]
        + [cell_num(t.pct(r.conversion[k]), r.conversion[k]) for k in range(1, len(names))]
        + [Cell(t("yes") if r.complete else t("no"), r.complete)]
        for r in trends
    ]
    table = Table([t("period"), t("entered"), *names[1:], t("complete")], rows, key="trend")
    section.charts.append(
        Chart("trends-chart", t("trends_chart", period=p), figure, table, DOC_TREND)
    )
    return section


def _bin_label(lo: int, hi: int | None, t: Words) -> str:
    if hi is None:
        return f"≥ {t.duration(lo)}"
    return f"< {t.duration(hi)}" if lo == 0 else f"{t.duration(lo)}–{t.duration(hi)}"


def ttc_section(
    histograms: list[TimeHistogram], names: dict[str, str], window_s: int | None, t: Words
) -> Section:
    """Return the time-to-convert section: one histogram per stage transition."""
    section = Section("time-to-convert", t("ttc"), intro=[t("ttc_intro")], doc=DOC_TTC)
    if not histograms:
        return section
    # Bins past the funnel window are empty by construction: leave them out of the chart.
    limit = window_s or None
    bins = [b for b in histograms[0].bins if limit is None or b.lo_s < limit]
    labels = [_bin_label(b.lo_s, b.hi_s, t) for b in bins]
    # Small multiples: one panel per transition, two a row, shares on a common axis.
    cols = 2 if len(histograms) > 1 else 1
    nrows = (len(histograms) + cols - 1) // cols
    data: list[dict[str, Any]] = []
    layout = base_layout(t, showlegend=False, bargap=0.12, margin={"t": 30, "b": 70})
    annotations = []
    gap_x, gap_y = 0.08, 0.16 if nrows > 1 else 0.0
    for i, h in enumerate(histograms):
        r, c = divmod(i, cols)
        axis = "" if i == 0 else str(i + 1)
        counts = [b.units for b in h.bins[: len(bins)]]
        total = sum(b.units for b in h.bins)
        share = [v / total if total else 0 for v in counts]
        prev = list(names.values())[h.step - 2]
        x0 = c / cols + (gap_x / 2 if c else 0)
        x1 = (c + 1) / cols - (gap_x / 2 if c + 1 < cols else 0)
        y1 = 1 - r / nrows - (gap_y / 2 if r else 0)
        y0 = 1 - (r + 1) / nrows + (gap_y / 2 if r + 1 < nrows else 0)
        data.append(
            {
                "type": "bar",
                "name": f"{prev} → {names[h.stage]}",
                "x": labels,
                "y": share,
                "customdata": counts,
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "hovertemplate": "%{x}: %{y:.1%} (%{customdata:,})<extra>%{fullData.name}</extra>",
            }
        )
        layout[f"xaxis{axis}"] = {
            "domain": [x0, x1],
            "anchor": f"y{axis}",
            "type": "category",
            "tickfont": {"size": 10},
            "tickangle": -45,
        }
        layout[f"yaxis{axis}"] = {
            "domain": [y0, y1],
            "anchor": f"x{axis}",
            "tickformat": ".0%",
            "gridcolor": "#eef0f4",
            "rangemode": "tozero",
        }
        annotations.append(
            {
                "text": f"<b>{prev} → {names[h.stage]}</b>",
                "x": (x0 + x1) / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    layout["annotations"] = annotations
    figure = {"data": data, "layout": layout}
    heads = [f"{list(names.values())[h.step - 2]} → {names[h.stage]}" for h in histograms]
    rows = [
        [Cell(label)] + [cell_num(t.whole(h.bins[j].units), h.bins[j].units) for h in histograms]
        for j, label in enumerate(labels)
    ]
    table = Table([t("bin"), *heads], rows, key="ttc")
    section.charts.append(
        Chart("ttc-chart", t("ttc_chart"), figure, table, DOC_TTC, height=60 + 270 * nrows)
    )
    return section
