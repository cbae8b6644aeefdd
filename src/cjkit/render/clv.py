"""The CLV report for people: parameters, holdout check, RFM segments, top units; and Markdown."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from cjkit.render.table import new_table, num, pct
from cjkit.report.clv import ClvReport
from cjkit.report.core import segment_text

_SEGMENT_LABELS = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalists": "Potential loyalists",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "about_to_sleep": "About to sleep",
    "at_risk": "At risk",
    "cant_lose": "Can't lose",
    "hibernating": "Hibernating",
    "lost": "Lost",
}


def _param(value: float | None, stderr: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4g} ± {stderr:.2g}" if stderr is not None else f"{value:.4g}"


def _params_rows(report: ClvReport) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for model, label in (("bg_nbd", "BG/NBD"), ("gamma_gamma", "Gamma-Gamma")):
        params = report.params.get(model) or {}
        errors = report.stderr.get(model) or {}
        for name, value in params.items():
            rows.append((f"{label} {name}", _param(value, errors.get(name))))
    return rows


def _title(report: ClvReport) -> str:
    s = report.settings
    return (
        f"Customer value ahead: {', '.join(s['purchase_events'])} per {s['time_unit']}, "
        f"observed to {s['observation_end']}, horizon {s['horizon']}"
    )


def _segments_table(report: ClvReport) -> RenderableType:
    table = new_table("RFM segments")
    for name in ("segment", "units", "share", "revenue share", "P(alive)", "CLV"):
        table.add_column(name, justify="left" if name == "segment" else "right", no_wrap=True)
    for s in report.segments:
        table.add_row(
            _SEGMENT_LABELS.get(s["segment"], s["segment"]),
            num(s["units"]),
            pct(s["share"]),
            pct(s["revenue_share"]),
            pct(s["mean_prob_alive"]),
            num(s["clv"]),
        )
    return table


def _top_table(report: ClvReport) -> RenderableType:
    table = new_table(f"Top {len(report.top)} units by CLV")
    for name in ("unit", "freq", "recency", "T", "value", "exp. purchases", "P(alive)", "CLV"):
        table.add_column(name, justify="left" if name == "unit" else "right", no_wrap=True)
    table.add_column("segment", no_wrap=True)
    for row in report.top:
        table.add_row(
            Text(str(row["unit"])),
            num(row["frequency"]),
            num(row["recency"], 1),
            num(row["T"], 1),
            num(row["monetary_value"]),
            num(row["expected_purchases"]),
            pct(row["prob_alive"]),
            num(row["clv"]),
            _SEGMENT_LABELS.get(row["rfm_segment"], row["rfm_segment"]),
        )
    return table


def _holdout_table(report: ClvReport) -> RenderableType | None:
    h = report.holdout
    if h is None:
        return None
    table = new_table(
        f"Holdout check: fitted to {h.calibration_end}, repeat purchases to {h.observation_end}",
        caption=(
            f"{num(h.predicted)} predicted, {h.actual:,} actual "
            f"({pct((h.predicted - h.actual) / h.actual) if h.actual else '–'}); mean absolute "
            f"error {num(h.mean_absolute_error)} per unit. Calibration BG/NBD: "
            + ", ".join(f"{k} {v:.4g}" for k, v in h.params.items())
        ),
    )
    for name in ("repeat purchases in calibration", "units", "predicted / unit", "actual / unit"):
        table.add_column(name, justify="right", no_wrap=True)
    for b in h.buckets:
        table.add_row(b["bucket"], num(b["units"]), num(b["mean_predicted"]), num(b["mean_actual"]))
    return table


def _folded_line(block: dict[str, Any]) -> str | None:
    """Return the line that says a breakdown shows only its largest values, or None."""
    folded = block.get("folded")
    if not folded:
        return None
    # --top is the number of top customers here, so the hint names only the data formats.
    return (
        f"showing {folded['top']:,} of {folded['values']:,} {block['by']} values, "
        "the rest as (other); --format json for all"
    )


def _md_text(value: object) -> str:
    return str(value).replace("|", "\\|")


def clv_table(report: ClvReport, explain: bool = False) -> RenderableType:
    """Return the CLV report: totals and parameters, holdout, segments, breakdowns, top units."""
    t = report.totals
    head = [
        ("units", num(t["units"])),
        ("repeat buyers", num(t["repeat_buyers"])),
        (f"expected purchases in {report.settings['horizon']}", num(t["expected_purchases"])),
        ("mean P(alive)", pct(t["mean_prob_alive"])),
        (f"CLV in {report.settings['horizon']}", num(t["clv"])),
        *_params_rows(report),
    ]
    summary = new_table()
    summary.show_header = False
    summary.add_column("", style="bold")
    summary.add_column("", justify="right")
    for key, text in head:
        summary.add_row(key, text)
    parts: list[RenderableType] = [Text(_title(report), style="bold"), summary]
    holdout = _holdout_table(report)
    if holdout is not None:
        parts.append(holdout)
    parts.append(_segments_table(report))
    for block in report.breakdowns:
        table = new_table(f"by {block['by']}")
        for name in ("value", "units", "P(alive)", "exp. purchases", "CLV", "CLV / unit"):
            table.add_column(name, justify="left" if name == "value" else "right")
        for g in block["groups"]:
            table.add_row(
                segment_text(g["value"]),
                num(g["units"]),
                pct(g["mean_prob_alive"]),
                num(g["expected_purchases"]),
                num(g["clv"]),
                num(g["mean_clv"]),
            )
        parts.append(table)
        line = _folded_line(block)
        if line:
            parts.append(Text(line, style="dim"))
    if report.top:
        parts.append(_top_table(report))
    parts.append(Text(f"Conventions: {report.conventions}.", style="dim"))
    return Group(*parts)


def clv_markdown(report: ClvReport) -> str:
    """Return the parameters, holdout check, segments and top units as Markdown."""
    out = [f"### {_title(report)}\n\n| parameter | value |\n| --- | ---: |\n"]
    out.extend(f"| {k} | {v} |\n" for k, v in _params_rows(report))
    h = report.holdout
    if h is not None:
        out.append(
            f"\nHoldout: {num(h.predicted)} repeat purchases predicted, {h.actual:,} actual, "
            f"mean absolute error {num(h.mean_absolute_error)} per unit.\n"
        )
    out.append(
        "\n| segment | units | share | revenue share | CLV |\n| --- | ---: | ---: | ---: | ---: |\n"
    )
    out.extend(
        f"| {_SEGMENT_LABELS[s['segment']]} | {s['units']:,} | {pct(s['share'])} "
        f"| {pct(s['revenue_share'])} | {num(s['clv'])} |\n"
        for s in report.segments
    )
    for block in report.breakdowns:
        out.append(
            f"\n| {_md_text(block['by'])} | units | P(alive) | exp. purchases | CLV "
            "| CLV / unit |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
        )
        out.extend(
            f"| {_md_text(segment_text(g['value']))} | {g['units']:,} "
            f"| {pct(g['mean_prob_alive'])} | {num(g['expected_purchases'])} | {num(g['clv'])} "
            f"| {num(g['mean_clv'])} |\n"
            for g in block["groups"]
        )
        line = _folded_line(block)
        if line:
            out.append(f"\n_{line}_\n")
    if report.top:
        out.append(
            "\n| unit | frequency | P(alive) | CLV | segment |\n| --- | ---: | ---: | ---: | --- |\n"
        )
        out.extend(
            f"| {r['unit']} | {r['frequency']} | {pct(r['prob_alive'])} | {num(r['clv'])} "
            f"| {_SEGMENT_LABELS[r['rfm_segment']]} |\n"
            for r in report.top
        )
    out.append(f"\nConventions: {report.conventions}.\n")
    return "".join(out)
