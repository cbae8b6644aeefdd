"""Tables and Markdown for insight: segments against the rest, changes, trends, time-to-convert
histograms, correlations, and the ranked findings of ``cjkit diagnose``."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from cjkit.durations import format_duration
from cjkit.render.github import escape_data, escape_property
from cjkit.render.table import bar, new_table, pct
from cjkit.report.cohorts import RetentionReport
from cjkit.report.core import FunnelReport, segment_text
from cjkit.report.diagnose import DiagnoseReport, JourneyReport
from cjkit.report.metrics import MetricsReport

HIST_WIDTH = 30


def change_mark(diff: float | None, significant: bool) -> str:
    """Return ``▲ 2.1 pts`` / ``▼ 5.3 pts *`` for a change of a rate (* = significant)."""
    if diff is None:
        return ""
    arrow = "▲" if diff > 0 else ("▼" if diff < 0 else "=")
    return f"{arrow} {abs(diff) * 100:.1f} pts" + (" *" if significant else "")


def _p(p: float | None) -> str:
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def has_vs_rest(report: FunnelReport) -> bool:
    """Return True when the breakdown groups carry ``vs_rest`` cells."""
    return any("vs_rest" in s.extra for g in report.groups for s in g.steps)


def segment_matrix(report: FunnelReport) -> RenderableType:
    """Return one row per segment, one column per step: its step conversion and its
    difference from the rest of the population (* = significant after BH)."""
    table = new_table(
        f"Segments by {' / '.join(report.by)}: step conversion, against the rest",
        caption="▲/▼ points against the rest of the population; * significant (BH, "
        f"q ≤ {report.settings.get('alpha', 0.05)})",
    )
    table.add_column("segment", overflow="fold")
    table.add_column("units", justify="right", no_wrap=True)
    for s in report.steps[1:]:
        table.add_column(s.name, justify="right", no_wrap=True)
    table.add_row(
        "(all)",
        f"{report.steps[0].count:,}",
        *[pct(s.conversion_from_previous) for s in report.steps[1:]],
        style="bold",
    )
    for g in report.groups:
        cells = []
        for s in g.steps[1:]:
            vr = s.extra.get("vs_rest")
            mark = change_mark(vr["diff"], vr["significant"]) if vr else ""
            cells.append(f"{pct(s.conversion_from_previous)} {mark}".strip())
        table.add_row(segment_text(g.value), f"{g.steps[0].count:,}", *cells)
    other = report.extra.get("breakdown_other")
    if other and other["folded_segments"]:
        table.caption = (
            f"{table.caption}. (other) folds {other['folded_segments']:,} segments, "
            f"{other['folded_units']:,} units (--top {other['top']})"
        )
    return table


def change_table(report: FunnelReport) -> RenderableType | None:
    """Return the steps against the compared period, or None without ``--compare``."""
    block = report.extra.get("compare")
    if not block:
        return None
    table = new_table(
        f"Change against {str(block['since'])[:10]}..{str(block['until'])[:10]}",
        caption="* significant (BH over the report's tests); z, fisher: rate tests; mood: medians",
    )
    for header in ("#", "step", "units then", "units now", "rate then", "rate now"):
        table.add_column(
            header,
            justify="right" if header != "step" else "left",
            no_wrap=True,
            min_width=len(header),
        )
    for header in ("change", "p", "median then", "median now", "p median"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    for s in report.steps:
        ch = s.extra.get("change") or {}
        rate = ch.get("conversion_from_previous") or {}
        ttc = ch.get("median_time_to_convert_s") or {}
        count = ch.get("count") or {}
        table.add_row(
            str(s.index),
            s.name,
            f"{count.get('then', 0):,}",
            f"{count.get('now', s.count):,}",
            pct(rate.get("then")) if rate else "",
            pct(rate.get("now")) if rate else "",
            change_mark(rate.get("diff"), bool(rate.get("significant"))) if rate else "",
            _p(rate.get("p_value")) + (f" {rate['test']}" if rate else ""),
            format_duration(ttc.get("then")) if ttc else "",
            format_duration(ttc.get("now")) if ttc else "",
            (_p(ttc.get("p_value")) + (" *" if ttc.get("significant") else "")) if ttc else "",
        )
    return table


def trend_table(report: FunnelReport) -> RenderableType | None:
    """Return the funnel trend by entry period, incomplete periods marked."""
    rows = report.extra.get("trend")
    if rows is None:
        return None
    table = new_table(
        "Trend by entry period",
        caption="incomplete: not every unit of the period has had the whole window yet",
    )
    table.add_column("period", no_wrap=True)
    for s in report.steps:
        table.add_column(s.name, justify="right", no_wrap=True)
    table.add_column("to last", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for r in rows:
        last = r["conversion_from_start"][-1]
        status = "" if r["complete"] else f"incomplete until {r['completes_at'][:10]}"
        table.add_row(
            r["period"],
            *[f"{c:,}" for c in r["counts"]],
            pct(last),
            Text(status, style="yellow") if status else "",
        )
    return table


def histogram_table(report: FunnelReport) -> RenderableType | None:
    """Return the time-to-convert histogram as bars, with its percentiles."""
    h = report.extra.get("time_to_convert_histogram")
    if h is None:
        return None
    names = {s.index: s.name for s in report.steps}
    table = new_table(
        f"Time to convert, {names[h['from_step']]} → {names[h['to_step']]} ({h['units']:,} units)",
        caption="  ".join(
            f"{k[:-2]} {format_duration(v)}" for k, v in h["percentiles"].items() if v is not None
        )
        + (f"  mean {format_duration(h['mean_s'])}" if h["mean_s"] is not None else ""),
    )
    table.add_column("from", justify="right", no_wrap=True)
    table.add_column("units", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    top = max([b["units"] for b in h["bins"]] or [1]) or 1
    for b in h["bins"]:
        table.add_row(
            format_duration(b["start_s"]), f"{b['units']:,}", bar(b["units"] / top, HIST_WIDTH)
        )
    return table


def correlation_table(report: FunnelReport) -> RenderableType | None:
    """Return the correlated events and values, in PostHog's order."""
    block = report.extra.get("correlation")
    if block is None:
        return None
    table = new_table(
        f"Correlation with reaching step {block.get('step')} "
        f"({block['success_total']:,} successes, {block['failure_total']:,} failures)",
        caption="odds ratio with +1 smoothing (PostHog); * significant (BH)",
    )
    for header in ("name", "type", "successes", "failures", "odds ratio", "p"):
        table.add_column(header, justify="left" if header in ("name", "type") else "right")
    for r in block["results"]:
        table.add_row(
            r["name"],
            r["correlation_type"],
            f"{r['success_count']:,}",
            f"{r['failure_count']:,}",
            f"{r['odds_ratio']:.3g}",
            _p(r["p_value"]) + (" *" if r.get("significant") else ""),
        )
    return table


def insight_parts(report: FunnelReport) -> list[RenderableType]:
    """Return the insight tables a funnel report carries (none without insight flags)."""
    parts = [change_table(report), trend_table(report), histogram_table(report)]
    parts.append(correlation_table(report))
    return [p for p in parts if p is not None]


# --- diagnose ----------------------------------------------------------------------------------


def _where(f: dict[str, Any]) -> str:
    stage = f["stage"]["name"] if f.get("stage") else ""
    seg = f"{f['segment']['column']}={f['segment']['value']}" if f.get("segment") else ""
    return " · ".join(x for x in (stage, seg, f.get("event") or "") if x)


def _compared_line(report: DiagnoseReport) -> str:
    compared = report.settings["compared"]
    now, then = compared["now"], compared["then"]
    text = (
        f"Compared {str(now['since'])[:10]}..{str(now['until'])[:10]} with "
        f"{str(then['since'])[:10]}..{str(then['until'])[:10]}"
    )
    found = report.settings.get("significant_changes", 0)
    if not found:
        return text + ": no rate or time to convert changed significantly."
    return text + f": {found} significant change(s)."


def diagnose_table(report: DiagnoseReport, explain: bool = False) -> RenderableType:
    """Return the stage counts, then the findings, ranked, one sentence each."""
    del explain
    stages = new_table("Journey")
    for header in ("#", "stage", "units", "of prev", "drop-off"):
        stages.add_column(header, justify="left" if header == "stage" else "right", no_wrap=True)
    for s in report.steps:
        stages.add_row(
            str(s["index"]),
            s["name"],
            f"{s['count']:,}",
            pct(s["conversion_from_previous"]) if s["index"] > 1 else "",
            f"{s['drop_off']:,}" if s["index"] > 1 else "",
        )
    total = report.settings.get("findings_total", len(report.findings))
    table = new_table(
        f"Findings ({len(report.findings)} of {total}, by impact in units of the last stage)"
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("impact", justify="right", no_wrap=True)
    table.add_column("finding", overflow="fold")
    for i, f in enumerate(report.findings, start=1):
        impact = "" if f.impact_units is None else f"{f.impact_units:+,.0f}"
        table.add_row(str(i), f.kind, impact, f.statement)
    parts: list[RenderableType] = [stages]
    if report.settings.get("compared"):
        parts.append(Text(_compared_line(report)))
    if not report.findings:
        parts.append(Text("No findings: nothing significant at this alpha.", style="dim"))
    else:
        parts.append(table)
    return Group(*parts)


def diagnose_markdown(report: DiagnoseReport) -> str:
    """Return the findings as Markdown for a PR comment or ``$GITHUB_STEP_SUMMARY``."""
    lines = ["## Journey diagnosis", ""]
    compared = report.settings.get("compared")
    if compared:
        lines += [_compared_line(report), ""]
    if not report.findings:
        lines.append("_No findings: nothing significant at this alpha._")
    for i, f in enumerate(report.findings, start=1):
        lines.append(f"{i}. **{f.kind}** — {f.statement}")
    lines += [
        "",
        "| # | stage | units | of prev | drop-off |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for s in report.steps:
        prev = pct(s["conversion_from_previous"]) if s["index"] > 1 else ""
        drop = f"{s['drop_off']:,}" if s["index"] > 1 else ""
        lines.append(f"| {s['index']} | {s['name']} | {s['count']:,} | {prev} | {drop} |")
    return "\n".join(lines) + "\n"


def diagnose_github(report: DiagnoseReport) -> str:
    """Return one GitHub Actions ``::warning`` (drops, segments that lose, changes, slowdowns,
    failing targets) or ``::notice`` (the rest) line per finding."""
    out = []
    for f in report.findings:
        bad = f.kind in ("drop", "slowdown", "target") or (f.impact_units or 0) < 0
        level = "warning" if bad else "notice"
        title = escape_property(f"cjkit diagnose: {f.kind}")
        out.append(f"::{level} title={title}::{escape_data(f.statement)}\n")
    return "".join(out)


# --- journey -------------------------------------------------------------------------------


def journey_table(report: JourneyReport, explain: bool = False) -> RenderableType:
    """Return the unit's stages, why it stopped, and its timeline."""
    del explain
    stages = new_table(f"Unit {report.unit}")
    stages.add_column("#", justify="right", no_wrap=True)
    stages.add_column("stage")
    stages.add_column("reached at", no_wrap=True)
    for s in report.stages:
        stages.add_row(str(s["index"]), s["name"], s["at"] or "–")
    if report.stopped is None:
        why = Text("Reached the last stage.", style="green")
    else:
        where = report.furthest["name"] if report.furthest else "before the first stage"
        why = Text(f"Stopped at {where}: {report.stopped['detail']}.", style="yellow")
    timeline = new_table("Timeline")
    timeline.add_column("time", no_wrap=True)
    timeline.add_column("event")
    timeline.add_column("stage filled")
    for e in report.events:
        mark = e["stage"] or ("exclusion" if e["exclusion"] else "")
        timeline.add_row(e["time"], str(e["event"]), mark, style="bold" if e["stage"] else None)
    return Group(stages, why, timeline)


def metrics_change_table(report: MetricsReport) -> RenderableType:
    """Return each stage's funnel numbers against the compared period (``metrics --compare``)."""
    block = report.extra["compare"]
    table = new_table(
        f"Change against {str(block['since'])[:10]}..{str(block['until'])[:10]} "
        f"(now {str(block['now']['since'])[:10]}..{str(block['now']['until'])[:10]})",
        caption="* significant (BH over the report's tests); z, fisher: rate tests; mood: medians",
    )
    for header in ("stage", "units then", "units now", "rate then", "rate now", "change"):
        table.add_column(
            header,
            justify="left" if header == "stage" else "right",
            no_wrap=True,
            min_width=len(header),
        )
    for header in ("p", "median then", "median now", "p median"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    names = {s.id: s.name for s in report.stages}
    for st in block["stages"]:
        ch = st["change"]
        rate = ch.get("conversion_from_previous") or {}
        ttc = ch.get("median_time_to_convert_s") or {}
        table.add_row(
            names.get(st["id"], st["id"]),
            f"{st['then']['count']:,}",
            f"{st['now']['count']:,}",
            pct(rate.get("then")) if rate else "",
            pct(rate.get("now")) if rate else "",
            change_mark(rate.get("diff"), bool(rate.get("significant"))) if rate else "",
            (_p(rate.get("p_value")) + f" {rate['test']}") if rate else "",
            format_duration(ttc.get("then")) if ttc else "",
            format_duration(ttc.get("now")) if ttc else "",
            (_p(ttc.get("p_value")) + (" *" if ttc.get("significant") else "")) if ttc else "",
        )
    return table


def retention_change_table(report: RetentionReport) -> RenderableType:
    """Return period k's pooled retention of the compared cohorts against the current ones."""
    block = report.extra["compare"]
    table = new_table(
        f"Retention of cohorts {str(block['now']['since'])[:10]}..{str(block['now']['until'])[:10]}"
        f" against {str(block['since'])[:10]}..{str(block['until'])[:10]}",
        caption="pooled over the complete cells; * significant (BH over the periods)",
    )
    for header in ("period", "then", "now", "change", "p"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    letter = str(report.settings.get("period", "period"))
    for r in block["periods"]:
        ch = r["change"] or {}
        table.add_row(
            f"{letter} {r['period']}",
            pct(r["then"]["rate"]),
            pct(r["now"]["rate"]),
            change_mark(ch.get("diff"), bool(ch.get("significant"))) if ch else "",
            (_p(ch.get("p_value")) + f" {ch['test']}") if ch else "",
        )
    return table
