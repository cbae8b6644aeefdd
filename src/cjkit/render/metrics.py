"""Rich tables and Markdown for ``cjkit metrics`` and ``cjkit check``; GitHub annotations.

The metrics table walks the model stage by stage. Each section opens with the stage's own
question ("Where do customers come from?") and answers it with the stage's funnel numbers and
its kind's metrics, then its tables (channels, periods, the retention curve, LTV by cohort).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cjkit import kinds as kind_registry
from cjkit.durations import format_duration
from cjkit.render.check import (
    check_annotations,
    check_markdown,
    check_table,
    checks_table,
    md_checks,
)
from cjkit.render.console import console_width
from cjkit.render.metric_text import LABELS, ci_text, fmt_value, md_escape
from cjkit.render.stage_sections import SECTIONS, declared, predicted_rows, predicted_title
from cjkit.render.table import bar, new_table, pct
from cjkit.report.core import segment_text
from cjkit.report.meaning import stage_meaning
from cjkit.report.metrics import (
    PREDICTED,
    Breakdown,
    MetricsReport,
    StageNumbers,
    StageResult,
)

__all__ = [
    "check_annotations",
    "check_markdown",
    "check_table",
    "fmt_value",
    "metrics_markdown",
    "metrics_table",
]

FUNNEL_FIXED = 62  # the funnel table's width without the stage names and the bar


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


def metrics_table(report: MetricsReport, explain: bool = False) -> RenderableType:
    """Return the report stage by stage: header, funnel, one section per stage, breakdowns."""
    parts: list[RenderableType] = [*_header(report), _funnel_table(report)]
    for st in report.stages:
        parts.extend(_section_head(st, explain))
        section = SECTIONS.get(st.kind, declared)
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
        parts.append(checks_table(report.checks, "Targets"))
    if "compare" in report.extra:
        from cjkit.render.diagnose import metrics_change_table

        parts.append(metrics_change_table(report))
    return Group(*parts)


def _md_metric_rows(st: StageResult) -> list[str]:
    lines = []
    for name, value in st.numbers.metrics.items():
        if name == "median_time_to_convert_s":
            continue
        if name == PREDICTED and isinstance(value, dict):
            lines.append(f"| {md_escape(predicted_title(value))} | |")
            lines += [f"| {label} | {text} |" for label, text in predicted_rows(value)]
            continue
        ci = st.numbers.ci.get(name)
        lines.append(
            f"| {LABELS.get(name, name)} | {md_escape(fmt_value(name, value))}{ci_text(ci, name)} |"
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
            f"| {st.index} | {md_escape(st.name)} | {n.count:,} | {pct(n.conversion_from_start)} | "
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
        out += ["", f"_{md_escape(meaning.line)}_"] if meaning is not None else []
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
            out.append("| " + " | ".join([md_escape(segment_text(g.value)), *cells]) + " |")
    if report.checks:
        out += ["", "### Targets", "", *md_checks(report.checks)]
    return "\n".join(out) + "\n"
