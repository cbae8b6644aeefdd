"""One section per stage of the model, by kind: its question, headline numbers and charts."""

from __future__ import annotations

from cjkit.render.html.cohorts import retention_charts
from cjkit.render.html.i18n import Words
from cjkit.render.html.page import PALETTE, Cell, Chart, Section, Table, base_layout, cell_num
from cjkit.render.html.revenue import revenue_section
from cjkit.render.html.stage_parts import DOC, DOC_CHECK, kpi
from cjkit.report.metrics import CheckResult, StageResult


def stage_section(stage: StageResult, name: str, period: str, t: Words) -> Section:
    """Return the section of one stage: funnel line, kind metrics as tiles, kind charts."""
    n = stage.numbers
    section = Section(
        f"stage-{stage.id}",
        t("stage_section", index=stage.index, name=name),
        doc=DOC.get(stage.kind, DOC["step"]),
    )
    if stage.description:
        section.intro.append(stage.description)
    ttc = n.time_to_convert
    if stage.index == 1:
        section.intro.append(t("funnel_line_first", count=t.whole(n.count)))
    else:
        section.intro.append(
            t(
                "funnel_line",
                count=t.whole(n.count),
                prev=t.pct(n.conversion_from_previous),
                start=t.pct(n.conversion_from_start),
                median=t.duration(ttc.median_s if ttc else None),
            )
        )
    section.questions.extend(stage.questions)
    section.intro.extend(stage.notes)
    builder = _KINDS.get(stage.kind)
    if builder is not None:
        builder(stage, section, period, t)
    return section


def _acquisition(stage: StageResult, section: Section, period: str, t: Words) -> None:
    m = stage.numbers.metrics
    kpi(
        section, stage, "new_units", t("new_units"), t.whole(m.get("new_units")), m.get("new_units")
    )
    if m.get("cac") is not None:
        kpi(section, stage, "cac", t("cac"), t.num(m["cac"]), m["cac"])
    by_channel = stage.tables.get("by_channel") or []
    if by_channel:
        key = next(k for k in by_channel[0] if k not in ("new_units", "share", "spend", "cac"))
        x = [str(r[key]) for r in by_channel]
        y = [r["new_units"] for r in by_channel]
        figure = {
            "data": [
                {
                    "type": "bar",
                    "x": y,
                    "y": x,
                    "orientation": "h",
                    "customdata": [r["share"] for r in by_channel],
                    "marker": {"color": PALETTE[0]},
                    "hovertemplate": "%{y}: %{x:,} (%{customdata:.1%})<extra></extra>",
                }
            ],
            "layout": base_layout(
                t,
                yaxis={"autorange": "reversed", "type": "category"},
                xaxis={"title": {"text": t("new_units")}},
                margin={"l": 110},
            ),
        }
        cac_cols = any(r.get("cac") is not None for r in by_channel)
        rows = [
            [
                Cell(str(r[key])),
                cell_num(t.whole(r["new_units"]), r["new_units"]),
                cell_num(t.pct(r["share"]), r["share"]),
            ]
            + (
                [
                    cell_num(t.num(r.get("spend")), r.get("spend")),
                    cell_num(t.num(r.get("cac")), r.get("cac")),
                ]
                if cac_cols
                else []
            )
            for r in by_channel
        ]
        cols = [t("channel"), t("new_units"), t("share")] + (
            [t("spend"), t("cac")] if cac_cols else []
        )
        section.charts.append(
            Chart(
                f"{stage.id}-channels",
                t("by_channel"),
                figure,
                Table(cols, rows, key=f"{stage.id}:by_channel"),
                DOC["acquisition"],
                height=max(220, 60 + 30 * len(x)),
            )
        )
    by_period = stage.tables.get("by_period") or []
    if by_period:
        x = [r["period"] for r in by_period]
        y = [r["new_units"] for r in by_period]
        figure = {
            "data": [
                {
                    "type": "bar",
                    "x": x,
                    "y": y,
                    "marker": {"color": PALETTE[6]},
                    "hovertemplate": "%{x}: %{y:,}<extra></extra>",
                }
            ],
            "layout": base_layout(
                t,
                yaxis={"title": {"text": t("new_units")}},
                xaxis={"type": "category" if period == "quarter" else "date"},
            ),
        }
        rows = [
            [Cell(r["period"]), cell_num(t.whole(r["new_units"]), r["new_units"])]
            for r in by_period
        ]
        section.charts.append(
            Chart(
                f"{stage.id}-periods",
                t("by_period", period=t(period)),
                figure,
                Table([t("period"), t("new_units")], rows, key=f"{stage.id}:by_period"),
                DOC["acquisition"],
                height=300,
            )
        )


def _activation(stage: StageResult, section: Section, period: str, t: Words) -> None:
    del period
    m, d = stage.numbers.metrics, stage.numbers.detail
    kpi(
        section,
        stage,
        "rate",
        t("activation_rate"),
        t.pct(m.get("rate")),
        m.get("rate"),
        t("ci95") + " " + t.ci(stage.numbers.ci.get("rate")),
    )
    kpi(
        section,
        stage,
        "median_time_to_activate_s",
        t("median_activate"),
        t.duration(m.get("median_time_to_activate_s")),
        m.get("median_time_to_activate_s"),
    )
    kpi(
        section,
        stage,
        "p90_time_to_activate_s",
        t("p90_activate"),
        t.duration(m.get("p90_time_to_activate_s")),
        m.get("p90_time_to_activate_s"),
    )
    if d.get("acquired") is not None:
        section.intro.append(
            t(
                "activation_line",
                activated=t.whole(d.get("activated")),
                acquired=t.whole(d.get("acquired")),
                within=t.duration(d.get("within_s")),
            )
        )


def _retention(stage: StageResult, section: Section, period: str, t: Words) -> None:
    del period
    m = stage.numbers.metrics
    for k in (1, 4, 8, 12):
        key = f"period_{k}"
        if key in m:
            p = t(str(stage.numbers.detail.get("period", "week")))
            kpi(section, stage, key, t("period_k", period=p, k=k), t.pct(m[key]), m[key])
    kpi(
        section,
        stage,
        "churn_rate",
        t("churn_rate"),
        t.pct(m.get("churn_rate")),
        m.get("churn_rate"),
    )
    kpi(
        section,
        stage,
        "events_per_active_unit",
        t("events_per_active"),
        t.num(m.get("events_per_active_unit")),
        m.get("events_per_active_unit"),
    )
    if stage.retention is not None:
        section.charts.extend(retention_charts(stage.retention, t, prefix=f"{stage.id}-retention"))


def _referral(stage: StageResult, section: Section, period: str, t: Words) -> None:
    del period
    m, d = stage.numbers.metrics, stage.numbers.detail
    for key, text in (
        ("referrer_share", t.pct(m.get("referrer_share"))),
        ("invites_per_unit", t.num(m.get("invites_per_unit"), 3)),
        ("referred_signups", t.whole(m.get("referred_signups"))),
        ("invite_conversion", t.pct(m.get("invite_conversion"))),
        ("k_factor", t.num(m.get("k_factor"), 3)),
    ):
        kpi(section, stage, key, t(key), text, m.get(key))
    names = [t("referrers"), t("invites"), t("referred_signups")]
    values = [d.get("referrers"), d.get("invites"), m.get("referred_signups")]
    if all(v is not None for v in values):
        figure = {
            "data": [
                {
                    "type": "bar",
                    "x": names,
                    "y": values,
                    "marker": {"color": PALETTE[2]},
                    "text": [t.whole(v) for v in values],
                    "textposition": "outside",
                    "cliponaxis": False,
                    "hovertemplate": "%{x}: %{y:,}<extra></extra>",
                }
            ],
            "layout": base_layout(
                t,
                yaxis={"title": {"text": t("units")}, "rangemode": "tozero"},
                xaxis={"type": "category"},
            ),
        }
        rows = [[Cell(nm), cell_num(t.whole(v), v)] for nm, v in zip(names, values, strict=True)]
        section.charts.append(
            Chart(
                f"{stage.id}-referral",
                t("referral_chart"),
                figure,
                Table([t("metric"), t("value")], rows, key=f"{stage.id}:referral"),
                DOC["referral"],
                height=300,
            )
        )


def _satisfaction(stage: StageResult, section: Section, period: str, t: Words) -> None:
    del period
    m, d = stage.numbers.metrics, stage.numbers.detail
    kpi(section, stage, "nps", t("nps"), t.num(m.get("nps"), 1), m.get("nps"))
    kpi(
        section,
        stage,
        "mean_score",
        t("mean_score"),
        t.num(m.get("mean_score")),
        m.get("mean_score"),
    )
    kpi(
        section, stage, "responses", t("responses"), t.whole(m.get("responses")), m.get("responses")
    )
    parts = [("promoters", PALETTE[2]), ("passives", "#9ca3af"), ("detractors", "#c2413b")]
    if all(d.get(k) is not None for k, _ in parts):
        total = sum(int(d[k]) for k, _ in parts) or 1
        data = [
            {
                "type": "bar",
                "orientation": "h",
                "name": t(k),
                "y": [t("responses")],
                "x": [d[k] / total],
                "customdata": [d[k]],
                "marker": {"color": c},
                "hovertemplate": t(k) + ": %{x:.1%} (%{customdata:,})<extra></extra>",
            }
            for k, c in parts
        ]
        figure = {
            "data": data,
            "layout": base_layout(
                t,
                barmode="stack",
                xaxis={"tickformat": ".0%"},
                yaxis={"type": "category"},
                margin={"l": 90},
            ),
        }
        rows = [
            [Cell(t(k)), cell_num(t.whole(d[k]), d[k]), cell_num(t.pct(d[k] / total), d[k] / total)]
            for k, _ in parts
        ]
        section.charts.append(
            Chart(
                f"{stage.id}-nps",
                t("nps_chart"),
                figure,
                Table([t("metric"), t("units"), t("share")], rows, key=f"{stage.id}:nps"),
                DOC["satisfaction"],
                height=200,
            )
        )


_KINDS = {
    "acquisition": _acquisition,
    "activation": _activation,
    "retention": _retention,
    "referral": _referral,
    "revenue": revenue_section,
    "satisfaction": _satisfaction,
}


def targets_section(checks: list[CheckResult], t: Words) -> Section:
    """Return the map's targets and whether each holds."""
    section = Section("targets", t("targets"), doc=DOC_CHECK)
    rows = [
        [
            Cell(c.metric),
            cell_num(t.num(c.actual, 4), c.actual),
            Cell(t(c.status), c.status, cls=f"status-{c.status}"),
            Cell(c.message),
        ]
        for c in checks
    ]
    section.tables.append(
        Table([t("target"), t("value"), t("status"), t("message")], rows, key="targets")
    )
    return section
