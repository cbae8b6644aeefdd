"""The revenue stage's section of the HTML report: money per currency, and LTV by cohort."""

from __future__ import annotations

from typing import Any

from cjkit.render.html.i18n import Words
from cjkit.render.html.page import PALETTE, Cell, Chart, Section, Table, base_layout, cell_num
from cjkit.render.html.stage_parts import DOC, kpi
from cjkit.report.metrics import StageResult

MONEY = ("revenue", "arpu", "arppu", "aov", "ltv", "ltv_cac")


def _money(value: Any) -> dict[str, float | None]:
    if isinstance(value, dict):
        return value
    return {"": value}


def revenue_section(stage: StageResult, section: Section, period: str, t: Words) -> None:
    m = stage.numbers.metrics
    kpi(
        section,
        stage,
        "paying_units",
        t("paying_units"),
        t.whole(m.get("paying_units")),
        m.get("paying_units"),
    )
    kpi(
        section,
        stage,
        "conversion_to_paid",
        t("conversion_to_paid"),
        t.pct(m.get("conversion_to_paid")),
        m.get("conversion_to_paid"),
        t("ci95") + " " + t.ci(stage.numbers.ci.get("conversion_to_paid")),
    )
    kpi(
        section,
        stage,
        "purchase_frequency",
        t("purchase_frequency"),
        t.num(m.get("purchase_frequency")),
        m.get("purchase_frequency"),
    )
    currencies = list(_money(m.get("revenue")))
    keys = [k for k in MONEY if k in m]
    rows = [
        [Cell(t(k))]
        + [cell_num(t.num(_money(m[k]).get(c)), _money(m[k]).get(c)) for c in currencies]
        for k in keys
    ]
    section.tables.append(
        Table([t("metric"), *[c or t("value") for c in currencies]], rows, key=f"{stage.id}:money")
    )
    shown = [k for k in ("arpu", "arppu", "aov", "ltv") if k in m]
    data = [
        {
            "type": "bar",
            "name": c or t("value"),
            "x": [t(k) for k in shown],
            "y": [_money(m[k]).get(c) for k in shown],
            "marker": {"color": PALETTE[i % len(PALETTE)]},
            "hovertemplate": "%{x}: %{y:,.2f}<extra>" + (c or "") + "</extra>",
        }
        for i, c in enumerate(currencies)
    ]
    figure = {"data": data, "layout": base_layout(t, barmode="group", xaxis={"type": "category"})}
    section.charts.append(
        Chart(
            f"{stage.id}-money",
            t("money_chart"),
            figure,
            Table(
                [t("metric"), *[c or t("value") for c in currencies]],
                [r for r in rows if r[0].text in {t(k) for k in shown}],
                key=f"{stage.id}:money_chart",
            ),
            DOC["revenue"],
            height=320,
        )
    )
    ltvs = stage.tables.get("ltv_by_cohort") or []
    if ltvs:
        p = t(str(ltvs[0].get("period", period)))
        data = []
        longest = max(len(x.get("average") or []) for x in ltvs)
        for x in ltvs:
            cur = x.get("currency") or ""
            i = currencies.index(cur) if cur in currencies else 0
            avg = x.get("average") or []
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": list(range(len(avg))),
                    "y": avg,
                    "line": {"color": PALETTE[i % len(PALETTE)], "width": 3},
                    "marker": {"size": 5},
                    "name": cur or t("ltv"),
                    "hovertemplate": "%{x}: %{y:,.2f}<extra>" + cur + "</extra>",
                }
            )
        figure = {
            "data": data,
            "layout": base_layout(
                t,
                yaxis={"title": {"text": t("ltv")}, "rangemode": "tozero"},
                xaxis={"title": {"text": t("since_acq", period=p)}},
            ),
        }
        heads = [x.get("currency") or t("ltv") for x in ltvs]
        rows = [
            [Cell(str(k))]
            + [cell_num(t.num(_at(x.get("average"), k)), _at(x.get("average"), k)) for x in ltvs]
            for k in range(longest)
        ]
        label = ", ".join(h for h in heads if h) or "–"
        section.charts.append(
            Chart(
                f"{stage.id}-ltv",
                t("ltv_chart", period=p, currency=label),
                figure,
                Table([t("since_acq", period=p), *heads], rows, key=f"{stage.id}:ltv"),
                DOC["revenue"],
                height=320,
            )
        )


def _at(values: list[Any] | None, k: int) -> Any:
    return values[k] if values and k < len(values) else None
