"""Rich tables and Markdown for ``cjkit metrics`` and ``cjkit check``; GitHub annotations.

The metrics table walks the model stage by stage. Each section opens with the stage's own
question ("Where do customers come from?") and answers it with the stage's funnel numbers and
its kind's metrics, then its tables (channels, periods, the retention curve, LTV by cohort).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cjkit import kinds as kind_registry
from cjkit.durations import format_duration
from cjkit.render.console import console_width
from cjkit.render.github import annotation
from cjkit.render.table import bar, kv_table, new_table, num, pct
from cjkit.report.core import segment_text
from cjkit.report.meaning import stage_meaning
from cjkit.report.metrics import (
    PREDICTED,
    Breakdown,
    CheckReport,
    CheckResult,
    MetricsReport,
    StageNumbers,
    StageResult,
    predicted_values,
)

FUNNEL_FIXED = 62  # the funnel table's width without the stage names and the bar
MAX_PERIOD_ROWS = 12  # the last periods shown in a table; JSON and CSV have them all
MAX_LTV_ROWS = 13  # periods since acquisition shown for the LTV curve (0..12)


def _unit(name: str) -> str:
    """Return a metric's unit from the stage-kind registry (seconds for any ``*_s``)."""
    declared = kind_registry.metric(name)
    if declared is not None:
        return declared.unit
    return "seconds" if name.endswith("_s") else "number"


class _Labels(dict[str, str]):
    """The display label of each metric a kind declares (read live from the registry)."""

    def __missing__(self, name: str) -> str:
        for spec in kind_registry.REGISTRY.values():
            for m in spec.metrics:
                if m.name == name:
                    return m.label
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        """Return the label, or ``default`` for a metric no kind declares."""
        try:
            return self[name]
        except KeyError:
            return default


_LABELS = _Labels()


def fmt_value(name: str, value: Any) -> str:
    """Return a metric value as display text by its unit in the registry: rates in %, seconds
    as durations, counts with thousands separators, money with two decimals, points signed
    (``–`` for null)."""
    if value is None:
        return "–"
    if isinstance(value, dict):
        return " · ".join(f"{k} {fmt_value(name, v)}" for k, v in value.items()) or "–"
    unit = _unit(name)
    if unit == "rate":
        return pct(value)
    if unit == "seconds":
        return format_duration(value)
    if unit == "count":
        return f"{int(value):,}"
    if unit == "points":
        return f"{value:+.1f}"
    if unit == "money":
        return f"{value:,.2f}"
    return num(value)


def _ci_text(ci: dict[str, float] | None, name: str | None = None) -> str:
    """Return a 95% interval as text: in % for rates, in the metric's own numbers otherwise."""
    if not ci:
        return ""
    if name is not None and _unit(name) != "rate":
        return f"  (95% CI {num(ci['low'])}–{num(ci['high'])})"
    return f"  (95% CI {ci['low'] * 100:.1f}–{ci['high'] * 100:.1f}%)"


def _header(report: MetricsReport) -> list[RenderableType]:
    m, src, pop = report.model, report.source, report.population
    files = src.get("files") or []
    where = ", ".join(files) if len(files) <= 2 else f"{len(files)} files"
    span = f"{(src.get('start') or '–')[:10]} → {(src.get('end') or '–')[:10]}"
    first = report.stages[0]
    lines: list[RenderableType] = [
        Text(f"{m['name']} ({m['id']})", style="bold"),
        Text(
            f"{where} · {src.get('rows', 0):,} events · {src.get('units', 0):,} units · {span}",
            style="dim",
        ),
    ]
    text = (
        f"Population: {pop['units']:,} units with a first-stage event "
        f"({first.name}: {' or '.join(first.events)}) in the range"
    )
    if pop.get("acquired") != pop.get("units"):
        text += f"; {pop['acquired']:,} of them were acquired in it (their first ever)"
    settings = report.settings
    if settings.get("since") or settings.get("until"):
        text += f" ({settings.get('since') or '…'} to {settings.get('until') or '…'})"
    lines.append(Text(text + ".", style="dim"))
    return lines


def _funnel_table(report: MetricsReport) -> Table:
    s = report.settings
    title = (
        f"Funnel ({s.get('order', 'ordered')}, window {format_duration(s.get('window_seconds'))})"
    )
    table = new_table(title)
    name_width = min(24, max(len(st.name) for st in report.stages))
    # Numbers never wrap; the bar is the optional column, narrowed or dropped to fit.
    bar_width = min(16, console_width() - FUNNEL_FIXED - name_width)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("stage", overflow="fold", min_width=name_width)
    for header in ("count", "of start", "of prev", "median time"):
        table.add_column(header, justify="right", no_wrap=True)
    if bar_width >= 6:
        table.add_column("", no_wrap=True, max_width=bar_width, overflow="crop")
    for st in report.stages:
        n = st.numbers
        ttc = n.time_to_convert
        table.add_row(
            str(st.index),
            st.name,
            f"{n.count:,}",
            pct(n.conversion_from_start),
            pct(n.conversion_from_previous) if st.index > 1 else "",
            format_duration(ttc.median_s) if ttc else "",
            *([bar(n.conversion_from_start, bar_width)] if bar_width >= 6 else []),
        )
    return table


def _section_head(st: StageResult, explain: bool) -> list[RenderableType]:
    head = Text(f"\n{st.index}. {st.name}", style="bold cyan")
    head.append(f"  {st.kind}", style="dim")
    out: list[RenderableType] = [head]
    if st.questions:
        out.append(Text(st.questions[0], style="italic"))
    if explain and st.description:
        out.append(Text(st.description, style="dim"))
    n = st.numbers
    if st.index == 1:
        funnel = f"{n.count:,} units enter the funnel here."
    else:
        ttc = n.time_to_convert
        funnel = (
            f"Funnel: {n.count:,} units reach it ({pct(n.conversion_from_previous)} of the "
            f"previous stage, {pct(n.conversion_from_start)} of the start)"
            + (f", median {format_duration(ttc.median_s)} after the previous stage" if ttc else "")
            + "."
        )
    out.append(Text(funnel, style="dim"))
    return out


def _kv(n: StageNumbers, names: list[str], title: str = "") -> Table:
    rows: list[tuple[str, Any]] = []
    for name in names:
        value = n.metrics.get(name)
        label = _LABELS.get(name, name)
        rows.append((label, fmt_value(name, value) + _ci_text(n.ci.get(name), name)))
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
        rows.append((_LABELS["cac"], fmt_value("cac", n.metrics["cac"])))
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


def _predicted_title(value: Any) -> str:
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
            table.add_row(_LABELS[name], *[fmt_value(name, values.get(cur)) for cur in currencies])
        out.append(table)
    else:
        out.append(_kv(n, [x for x in money if x != "ltv_cac" or m.get(x) is not None]))
    rest = [("orders", f"{int(n.detail.get('orders', 0)):,}")]
    rest += [
        (_LABELS[name], fmt_value(name, m.get(name)) + _ci_text(n.ci.get(name)))
        for name in ("paying_units", "conversion_to_paid", "purchase_frequency")
    ]
    out.append(_plain_kv(rest))
    predicted = m.get(PREDICTED)
    if isinstance(predicted, dict):
        out.append(kv_table(_predicted_title(predicted), predicted_rows(predicted)))
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
                table.add_column(_LABELS.get(name, name), justify="right", no_wrap=True)
            for row in rows:
                table.add_row(
                    str(row.get(label) or "(none)"), *[fmt_value(x, row.get(x)) for x in names]
                )
            out.append(table)
    return out


def _declared(st: StageResult) -> list[RenderableType]:
    """Return a kind without its own section: the metrics it declares, in order."""
    spec = kind_registry.REGISTRY.get(st.kind)
    names = [m.name for m in spec.metrics] if spec is not None else []
    return [_kv(st.numbers, names)] if names else []


_SECTIONS = {
    "acquisition": _acquisition,
    "activation": _activation,
    "retention": _retention,
    "referral": _referral,
    "revenue": _revenue,
    "satisfaction": _satisfaction,
}


def _headline(st: StageResult, n: StageNumbers) -> tuple[str, str]:
    """Return (column label, value) summarizing one stage for one breakdown group."""
    if st.index == 1:
        return "units", f"{n.count:,}"
    spec = kind_registry.REGISTRY.get(st.kind)
    if spec is not None and spec.headline is not None:
        label, name = spec.headline
        return label, fmt_value(name, n.metrics.get(name))
    return "of start", pct(n.conversion_from_start)


def _breakdown_table(report: MetricsReport, b: Breakdown) -> Table:
    table = new_table(
        f"By {b.by}", caption=f"each unit's value on its first {report.stages[0].name} event"
    )
    table.add_column(b.by, overflow="fold")
    for st in report.stages:
        label, _ = _headline(st, st.numbers)
        table.add_column(f"{st.name}\n{label}", justify="right", no_wrap=True, overflow="ellipsis")
    for g in b.groups:
        table.add_row(
            segment_text(g.value),
            *[_headline(st, n)[1] for st, n in zip(report.stages, g.stages, strict=True)],
        )
    return table


def _status(c: CheckResult) -> Text:
    if c.status == "pass":
        return Text("✓ pass", style="green")
    if c.status == "skip":
        return Text("– skip", style="dim")
    return Text(
        "✗ fail" if c.severity == "error" else "! warn",
        style="red" if c.severity == "error" else "yellow",
    )


def _bound(c: CheckResult) -> str:
    """Return a target's bounds in the metric's own units (``≥ 50.0%``, ``≤ 60.00``)."""
    name = c.metric.partition(".")[2]
    parts = []
    if c.min is not None:
        parts.append(f"≥ {fmt_value(name, c.min)}")
    if c.max is not None:
        parts.append(f"≤ {fmt_value(name, c.max)}")
    if c.max_drop is not None:
        parts.append(f"drop ≤ {c.max_drop:g}")
    if c.max_drop_pct is not None:
        parts.append(f"drop ≤ {c.max_drop_pct:g}%")
    return ", ".join(parts) + ("" if c.severity == "error" else " (warn)")


def _checks_table(checks: list[CheckResult], title: str) -> Table:
    table = new_table(title)
    table.add_column("target", overflow="fold")
    table.add_column("actual", justify="right", no_wrap=True)
    table.add_column("bound", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for c in checks:
        name = c.metric.partition(".")[2]
        table.add_row(
            c.metric,
            fmt_value(name, c.actual) if c.actual is not None else "–",
            _bound(c),
            _status(c),
        )
    return table


def metrics_table(report: MetricsReport, explain: bool = False) -> RenderableType:
    """Return the report stage by stage: header, funnel, one section per stage, breakdowns."""
    parts: list[RenderableType] = [*_header(report), _funnel_table(report)]
    for st in report.stages:
        parts.extend(_section_head(st, explain))
        section = _SECTIONS.get(st.kind, _declared)
        parts.extend(section(st))
        meaning = stage_meaning(report, st)  # the funnel count against the stage's own count
        if meaning is not None:
            shown = meaning.explanation if explain else [meaning.line]
            parts.extend(Text(line, style="dim") for line in shown)
        parts.extend(Text(f"Note: {note}", style="yellow") for note in st.notes)
    for b in report.breakdowns:
        parts.append(Text(""))
        parts.append(_breakdown_table(report, b))
    if report.checks:
        parts.append(Text(""))
        parts.append(_checks_table(report.checks, "Targets"))
    if "compare" in report.extra:
        from cjkit.render.diagnose import metrics_change_table

        parts.append(metrics_change_table(report))
    return Group(*parts)


# --- Markdown -------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _md_metric_rows(st: StageResult) -> list[str]:
    lines = []
    for name, value in st.numbers.metrics.items():
        if name == "median_time_to_convert_s":
            continue
        if name == PREDICTED and isinstance(value, dict):
            lines.append(f"| {_md_escape(_predicted_title(value))} | |")
            lines += [f"| {label} | {text} |" for label, text in predicted_rows(value)]
            continue
        ci = st.numbers.ci.get(name)
        lines.append(
            f"| {_LABELS.get(name, name)} | {_md_escape(fmt_value(name, value))}"
            f"{_ci_text(ci, name)} |"
        )
    return lines


def metrics_markdown(report: MetricsReport) -> str:
    """Return the report as Markdown: the funnel, then one section per stage."""
    m, src, pop = report.model, report.source, report.population
    out = [
        f"## {m['name']} (`{m['id']}`)",
        "",
        f"{src.get('rows', 0):,} events, {src.get('units', 0):,} units, "
        f"{(src.get('start') or '–')[:10]} → {(src.get('end') or '–')[:10]}. "
        f"Population: {pop['units']:,} units ({pop['acquired']:,} acquired in the range).",
        "",
        "| # | stage | count | of start | of previous | median time |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for st in report.stages:
        n = st.numbers
        ttc = n.time_to_convert
        out.append(
            f"| {st.index} | {_md_escape(st.name)} | {n.count:,} | {pct(n.conversion_from_start)} | "
            f"{pct(n.conversion_from_previous) if st.index > 1 else ''} | "
            f"{format_duration(ttc.median_s) if ttc else ''} |"
        )
    for st in report.stages:
        rows = _md_metric_rows(st)
        out += ["", f"### {st.index}. {st.name} ({st.kind})"]
        if st.questions:
            out += ["", f"_{st.questions[0]}_"]
        if rows:
            out += ["", "| metric | value |", "| --- | ---: |", *rows]
        out += ["", *[f"> Note: {note}" for note in st.notes]] if st.notes else []
        meaning = stage_meaning(report, st)
        out += ["", f"_{_md_escape(meaning.line)}_"] if meaning is not None else []
    for b in report.breakdowns:
        heads = [_headline(st, st.numbers)[0] for st in report.stages]
        out += [
            "",
            f"### By {b.by}",
            "",
            "| "
            + " | ".join(
                [b.by, *[f"{st.name}: {h}" for st, h in zip(report.stages, heads, strict=True)]]
            )
            + " |",
            "| --- |" + " ---: |" * len(report.stages),
        ]
        for g in b.groups:
            cells = [_headline(st, n)[1] for st, n in zip(report.stages, g.stages, strict=True)]
            out.append("| " + " | ".join([_md_escape(segment_text(g.value)), *cells]) + " |")
    if report.checks:
        out += ["", "### Targets", "", *_md_checks(report.checks)]
    return "\n".join(out) + "\n"


def _md_checks(checks: list[CheckResult]) -> list[str]:
    icon = {"pass": "✅ pass", "skip": "➖ skip"}
    lines = ["| target | actual | bound | status |", "| --- | ---: | --- | --- |"]
    for c in checks:
        status = icon.get(c.status) or ("❌ fail" if c.severity == "error" else "⚠️ warn")
        name = c.metric.partition(".")[2]
        actual = fmt_value(name, c.actual) if c.actual is not None else "–"
        bound = _bound(c)
        lines.append(f"| `{c.metric}` | {actual} | {bound} | {status} |")
    return lines


# --- check ----------------------------------------------------------------------------------


def _verdict(report: CheckReport) -> str:
    if not report.checks:
        return "no targets to check"
    failed = report.failed_errors + report.failed_warnings
    if report.ok and not failed:
        return f"all {len(report.checks)} targets pass"
    parts = []
    if report.failed_errors:
        parts.append(f"{report.failed_errors} error target(s) failed")
    if report.failed_warnings:
        parts.append(
            f"{report.failed_warnings} warning(s)"
            + (" (failing: --strict)" if report.strict else "")
        )
    return ", ".join(parts)


def check_table(report: CheckReport, explain: bool = False) -> RenderableType:
    """Return the targets table (target, actual, bound, status), the failures and a verdict."""
    del explain
    title = f"Targets of {report.map_file}" + (
        f" against {report.baseline}" if report.baseline else ""
    )
    parts: list[RenderableType] = [_checks_table(report.checks, title)]
    for c in report.checks:
        if c.status != "pass":
            style = (
                "red" if c.failed and c.severity == "error" else ("yellow" if c.failed else "dim")
            )
            parts.append(Text(f"{report.map_file}:{c.line}: {c.message}", style=style))
    parts.append(Text(_verdict(report), style="bold green" if report.ok else "bold red"))
    return Group(*parts)


def check_markdown(report: CheckReport) -> str:
    """Return the check as Markdown for a PR comment or ``$GITHUB_STEP_SUMMARY``."""
    head = "✅" if report.ok else "❌"
    lines = [
        f"## {head} cjkit check: {_verdict(report)}",
        "",
        f"Map `{report.map_file}`"
        + (f", baseline `{report.baseline}`" if report.baseline else "")
        + ".",
        "",
        *_md_checks(report.checks),
    ]
    failures = [c for c in report.checks if c.status != "pass"]
    if failures:
        lines.append("")
        lines += [f"- `{report.map_file}:{c.line}` {_md_escape(c.message)}" for c in failures]
    return "\n".join(lines) + "\n"


def check_annotations(report: CheckReport) -> str:
    """Return one ``::error``/``::warning`` workflow command per failed target, at its line."""
    lines = []
    for c in report.checks:
        if not c.failed:
            continue
        level = "error" if c.severity == "error" else "warning"
        lines.append(annotation(level, report.map_file, c.line, None, "cjkit", c.message))
    return "".join(lines)
