"""One section per stage kind in the ``cjkit metrics`` table: each kind's metrics and its tables
(channels, periods, the retention curve, LTV by cohort, predicted value, satisfaction)."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from cjkit import kinds as kind_registry
from cjkit.durations import format_duration
from cjkit.render.metric_text import LABELS, ci_text, fmt_value
from cjkit.render.table import bar, kv_table, new_table, num, pct
from cjkit.report.core import segment_text
from cjkit.report.metrics import (
    PREDICTED,
    StageNumbers,
    StageResult,
    predicted_values,
)

MAX_PERIOD_ROWS = 12  # the last periods shown in a table; JSON and CSV have them all
MAX_LTV_ROWS = 13  # periods since acquisition shown for the LTV curve (0..12)


def _kv(n: StageNumbers, names: list[str], title: str = "") -> Table:
    rows: list[tuple[str, Any]] = []
    for name in names:
        value = n.metrics.get(name)
        label = LABELS.get(name, name)
        rows.append((label, fmt_value(name, value) + ci_text(n.ci.get(name), name)))
    return kv_table(title, rows) if title else _plain_kv(rows)


def _plain_kv(rows: list[tuple[str, Any]]) -> Table:
    table = new_table()
    table.show_header = False
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", justify="right", overflow="fold")
    for key, value in rows:
        table.add_row(key, value if isinstance(value, Text) else str(value))
    return table


def _tail(rows: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    if len(rows) <= limit:
        return rows, None
    return rows[-limit:], f"last {limit} of {len(rows)} periods (JSON has all)"


def _trimmed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the periods from the first to the last with new units or spend (empty periods
    between them stay: a week that acquired nobody is news)."""
    busy = [i for i, r in enumerate(rows) if r["new_units"] or r.get("spend")]
    return rows[busy[0] : busy[-1] + 1] if busy else []


def _acquisition(st: StageResult) -> list[RenderableType]:
    n = st.numbers
    out: list[RenderableType] = []
    rows: list[tuple[str, Any]] = [("new units", fmt_value("new_units", n.metrics["new_units"]))]
    if "spend" in n.detail:
        rows.append(("spend", fmt_value("revenue", n.detail["spend"])))
        rows.append((LABELS["cac"], fmt_value("cac", n.metrics["cac"])))
    out.append(_plain_kv(rows))
    channels = st.tables.get("by_channel")
    if channels:
        spend = "spend" in channels[0]
        table = new_table("New units by channel")
        table.add_column("channel", overflow="fold")
        table.add_column("new units", justify="right", no_wrap=True)
        table.add_column("share", justify="right", no_wrap=True)
        if spend:
            table.add_column("spend", justify="right", no_wrap=True)
            table.add_column("CAC", justify="right", no_wrap=True)
        for r in channels:
            row = [segment_text(r["channel"]), f"{r['new_units']:,}", pct(r["share"])]
            if spend:
                row += [fmt_value("revenue", r.get("spend")), fmt_value("cac", r.get("cac"))]
            table.add_row(*row)
        out.append(table)
    periods = _trimmed(st.tables.get("by_period") or [])
    if periods:
        shown, note = _tail(periods, MAX_PERIOD_ROWS)
        spend = "spend" in shown[0]
        table = new_table("New units by period", caption=note)
        table.add_column("period from", no_wrap=True)
        table.add_column("new units", justify="right", no_wrap=True)
        if spend:
            table.add_column("spend", justify="right", no_wrap=True)
            table.add_column("CAC", justify="right", no_wrap=True)
        top = max((r["new_units"] for r in shown), default=0)
        table.add_column("", no_wrap=True, max_width=20, overflow="crop")
        for r in shown:
            cells: list[Any] = [r["period"], f"{r['new_units']:,}"]
            if spend:
                cells += [fmt_value("revenue", r.get("spend")), fmt_value("cac", r.get("cac"))]
            cells.append(bar(r["new_units"] / top if top else None, 20))
            table.add_row(*cells)
        out.append(table)
    return out


def _activation(st: StageResult) -> list[RenderableType]:
    n = st.numbers
    d = n.detail
    out: list[RenderableType] = [
        _kv(n, ["rate", "median_time_to_activate_s", "p90_time_to_activate_s"])
    ]
    if "acquired" in d:
        out.append(
            Text(
                f"{d['activated']:,} of {d['acquired']:,} acquired units did "
                f"{' or '.join(st.events)} within {format_duration(d.get('within_s'))} "
                "of their acquisition.",
                style="dim",
            )
        )
    return out


def _retention(st: StageResult) -> list[RenderableType]:
    n = st.numbers
    period = str(n.detail.get("period", "period"))
    out: list[RenderableType] = [_kv(n, ["churn_rate", "events_per_active_unit"])]
    report = st.retention
    table = new_table(f"Back in {period} k", caption="weighted average over the complete cohorts")
    table.add_column(period, justify="right", no_wrap=True)
    table.add_column("retained", justify="right", no_wrap=True)
    # A recurring cohort opens for a unit in every period it does the start event, so its
    # sizes count unit-periods, not distinct units (they exceed the stage's units).
    recurring = (report.settings.get("cohort") if report else "recurring") == "recurring"
    table.add_column("unit-periods" if recurring else "cohort units", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, max_width=24, overflow="crop")
    k = 1
    while f"period_{k}" in n.metrics:
        rate = n.metrics[f"period_{k}"]
        size = report.average.sizes[k] if report and k < len(report.average.sizes) else None
        table.add_row(
            str(k),
            pct(rate),
            f"{size:,}" if size is not None else "–",
            bar(rate, 24),
        )
        k += 1
    out.append(table)
    out.append(
        Text(
            f"cjkit retention EVENTS --start-event {report.settings.get('start_event') if report else '…'} "
            f"--return-event {report.settings.get('return_event') if report else '…'} "
            f"--period {period} shows the whole cohort table.",
            style="dim",
        )
    )
    return out


def _referral(st: StageResult) -> list[RenderableType]:
    names = [
        "referrer_share",
        "invites_per_unit",
        "referred_signups",
        "invite_conversion",
        "k_factor",
    ]
    return [_kv(st.numbers, names)]


_PREDICTED_LABELS = {
    "units": ("units fitted", "count"),
    "repeat_buyers": ("repeat buyers", "count"),
    "expected_purchases": ("expected purchases", "number"),
    "expected_purchases_per_unit": ("expected purchases per unit", "number"),
    "mean_prob_alive": ("mean P(alive)", "rate"),
    "clv": ("expected CLV", "money"),
    "clv_per_unit": ("expected CLV per unit", "money"),
}


def predicted_rows(value: Any) -> list[tuple[str, str]]:
    """Return a revenue stage's predicted-value section as (label, text) rows: the totals over
    the horizon, then the fitted parameters (one block per currency)."""
    rows: list[tuple[str, str]] = []
    for name, currency, v in predicted_values(value):
        field = name.removeprefix(PREDICTED + ".")
        label, unit = _PREDICTED_LABELS.get(field, (field, "number"))
        if v is None:
            text = "–"
        elif unit == "count":
            text = f"{int(v):,}"
        elif unit == "rate":
            text = pct(v)
        elif unit == "money":
            text = f"{v:,.2f}"
        else:
            text = num(v, 4 if "." in field else 2)
        rows.append((f"{currency + ': ' if currency else ''}{label}", text))
    return rows


def predicted_title(value: Any) -> str:
    """Return the heading of a revenue stage's predicted-value block."""
    first = value if "model" in value else next(iter(value.values()), {})
    return (
        f"Predicted value, next {first.get('horizon', '?')} (BG/NBD + Gamma-Gamma, "
        f"observed to {first.get('observation_end', '?')})"
    )


def _revenue(st: StageResult) -> list[RenderableType]:
    n = st.numbers
    m = n.metrics
    money = ["revenue", "arpu", "arppu", "aov", "ltv", "ltv_cac"]
    out: list[RenderableType] = []
    if isinstance(m.get("revenue"), dict):
        currencies = list(m["revenue"])
        table = new_table()
        table.add_column("", style="bold", no_wrap=True)
        for cur in currencies:
            table.add_column(cur, justify="right", no_wrap=True)
        for name in money:
            values = m.get(name) or {}
            if name == "ltv_cac" and all(v is None for v in values.values()):
                continue  # no spend file, or several currencies
            table.add_row(LABELS[name], *[fmt_value(name, values.get(cur)) for cur in currencies])
        out.append(table)
    else:
        out.append(_kv(n, [x for x in money if x != "ltv_cac" or m.get(x) is not None]))
    rest = [("orders", f"{int(n.detail.get('orders', 0)):,}")]
    rest += [
        (LABELS[name], fmt_value(name, m.get(name)) + ci_text(n.ci.get(name)))
        for name in ("paying_units", "conversion_to_paid", "purchase_frequency")
    ]
    out.append(_plain_kv(rest))
    predicted = m.get(PREDICTED)
    if isinstance(predicted, dict):
        out.append(kv_table(predicted_title(predicted), predicted_rows(predicted)))
    for entry in st.tables.get("ltv_by_cohort", []):
        average = entry["average"][:MAX_LTV_ROWS]
        if not any(v is not None for v in average):
            continue
        cur = f" ({entry['currency']})" if entry.get("currency") else ""
        table = new_table(
            f"LTV{cur} per acquired unit",
            caption="cumulative revenue by periods since acquisition; complete cohorts only",
        )
        table.add_column(str(entry.get("period", "period")), justify="right", no_wrap=True)
        table.add_column("LTV", justify="right", no_wrap=True)
        table.add_column("", no_wrap=True, max_width=24, overflow="crop")
        top = max((v for v in average if v is not None), default=0.0)
        for k, value in enumerate(average):
            table.add_row(
                str(k), fmt_value("ltv", value), bar(value / top if value and top > 0 else None, 24)
            )
        out.append(table)
    return out


def _satisfaction(st: StageResult) -> list[RenderableType]:
    n = st.numbers
    d = n.detail
    m = n.metrics
    names = ["nps", "mean_score", "responses"] if "scale" in d else []
    if "csat_scale" in d:
        names += ["csat", "csat_responses"]
    if "ces_scale" in d:
        names += ["ces", "ces_easy", "ces_responses"]
    out: list[RenderableType] = [_kv(n, names)]
    if m.get("responses") and "promoters" in d:
        out.append(
            Text(
                f"{d['promoters']:,} promoters (9–10), {d['passives']:,} passives (7–8), "
                f"{d['detractors']:,} detractors (0–6)",
                style="dim",
            )
        )
    for title, key, label in (
        ("By touchpoint", "by_touchpoint", "touchpoint"),
        ("By stage reached when answering", "by_stage_reached", "name"),
    ):
        rows = st.tables.get(key) or []
        if rows:
            table = new_table(title)
            table.add_column(label, overflow="fold")
            for name in names:
                table.add_column(LABELS.get(name, name), justify="right", no_wrap=True)
            for row in rows:
                table.add_row(
                    str(row.get(label) or "(none)"), *[fmt_value(x, row.get(x)) for x in names]
                )
            out.append(table)
    return out


def declared(st: StageResult) -> list[RenderableType]:
    """Return a kind without its own section: the metrics it declares, in order."""
    spec = kind_registry.REGISTRY.get(st.kind)
    names = [m.name for m in spec.metrics] if spec is not None else []
    return [_kv(st.numbers, names)] if names else []


SECTIONS = {
    "acquisition": _acquisition,
    "activation": _activation,
    "retention": _retention,
    "referral": _referral,
    "revenue": _revenue,
    "satisfaction": _satisfaction,
}
