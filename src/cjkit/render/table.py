"""Rich tables for funnels, data profiles, validation results and the model catalogue."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cjkit.durations import format_duration
from cjkit.render.console import console_width
from cjkit.report.core import (
    FunnelReport,
    FunnelStep,
    InspectReport,
    ModelReport,
    ModelsReport,
    ValidateReport,
    segment_text,
)

BAR_WIDTH = 20
FIXED_WIDTH = 62  # the funnel table's columns other than the step name and the bar


def pct(value: float | None) -> str:
    """Return a fraction as a percentage with one decimal (``–`` for null)."""
    return "–" if value is None else f"{value * 100:.1f}%"


def num(value: float | int | None, digits: int = 2) -> str:
    """Return a number with thousands separators (``–`` for null)."""
    if value is None:
        return "–"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def bar(fraction: float | None, width: int = BAR_WIDTH) -> Text:
    """Return a horizontal bar for a fraction in [0, 1]."""
    if fraction is None:
        return Text("")
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, rest = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[rest].strip() if rest else ""
    return Text("█" * full + partial, style="cyan")


def new_table(title: str | None = None, caption: str | None = None) -> Table:
    """Return a table in cjkit's house style."""
    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
        pad_edge=False,
        header_style="bold",
    )


def _funnel_steps_table(steps: list[FunnelStep], title: str | None) -> Table:
    table = new_table(title)
    name_width = max([4, *(len(s.name) for s in steps)])
    # Numbers never wrap; the bar is the optional column, dropped when the terminal is narrow.
    bar_width = min(BAR_WIDTH, console_width() - FIXED_WIDTH - min(name_width, 24) - 3)
    with_bar = bar_width >= 6
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("step", overflow="fold", min_width=min(name_width, 12))
    for header in ("count", "of start", "of prev", "drop-off", "median time"):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    if with_bar:
        table.add_column("", no_wrap=True, max_width=bar_width, overflow="crop")
    for s in steps:
        ttc = s.time_to_convert
        table.add_row(
            str(s.index),
            s.name,
            f"{s.count:,}",
            pct(s.conversion_from_start),
            pct(s.conversion_from_previous) if s.index > 1 else "",
            f"{s.drop_off:,}" if s.index > 1 else "",
            format_duration(ttc.median_s) if ttc else "",
            *([bar(s.conversion_from_start, bar_width)] if with_bar else []),
        )
    return table


def funnel_table(report: FunnelReport, explain: bool = False) -> RenderableType:
    """Return the funnel as a table with bars, then one table per breakdown group."""
    del explain
    settings = report.settings
    title = (
        f"Funnel ({settings.get('order', 'ordered')}, window "
        f"{format_duration(settings.get('window_seconds'))})"
    )
    parts: list[RenderableType] = [_funnel_steps_table(report.steps, title)]
    if report.excluded_units:
        parts.append(
            Text(f"{report.excluded_units:,} unit(s) removed by exclusion steps", style="dim")
        )
    from cjkit.render.diagnose import has_vs_rest, insight_parts, segment_matrix

    if has_vs_rest(report):
        parts.append(segment_matrix(report))
    else:
        for group in report.groups:
            label = f"{' / '.join(report.by)} = {segment_text(group.value)}"
            parts.append(_funnel_steps_table(group.steps, label))
    parts.extend(insight_parts(report))
    return Group(*parts)


def kv_table(title: str, rows: list[tuple[str, Any]]) -> Table:
    """Return a two-column key/value table."""
    table = new_table(title)
    table.add_column("", style="bold")
    table.add_column("", justify="right", overflow="fold")
    for key, value in rows:
        table.add_row(key, value if isinstance(value, Text) else str(value))
    return table


def inspect_table(report: InspectReport, explain: bool = False) -> RenderableType:
    """Return the data profile: a summary, the events, and the columns."""
    del explain
    summary = kv_table(
        "Events",
        [
            (
                "files",
                ", ".join(report.files) if len(report.files) <= 3 else f"{len(report.files)} files",
            ),
            ("rows", f"{report.rows:,}"),
            ("units", f"{report.units:,}"),
            ("from", report.start or "–"),
            ("to", report.end or "–"),
        ]
        + ([("dropped rows", f"{report.dropped_rows:,}")] if report.dropped_rows else [])
        + _inputs_rows(report),
    )
    events = new_table("Event names")
    events.add_column("event", overflow="fold")
    events.add_column("count", justify="right", no_wrap=True)
    events.add_column("units", justify="right", no_wrap=True)
    events.add_column("% of units", justify="right", no_wrap=True)
    for e in report.events:
        events.add_row(
            e["event"],
            f"{e['count']:,}",
            f"{e['units']:,}",
            pct(e["units"] / report.units if report.units else None),
        )
    columns = new_table("Columns")
    columns.add_column("column", no_wrap=True)
    columns.add_column("type", no_wrap=True)
    columns.add_column("null", justify="right", no_wrap=True)
    columns.add_column("samples", overflow="ellipsis", no_wrap=True, max_width=40)
    for c in report.columns:
        columns.add_row(c["name"], c["dtype"], pct(c["null_share"]), ", ".join(c["samples"]))
    if not report.nested:
        return Group(summary, events, columns)
    paths = new_table("Nested paths (use them wherever a column name goes)")
    paths.add_column("path", no_wrap=True)
    paths.add_column("type", no_wrap=True)
    paths.add_column("samples", overflow="ellipsis", no_wrap=True, max_width=40)
    for n in report.nested:
        paths.add_row(n["path"], n["dtype"], ", ".join(n["samples"]))
    return Group(summary, events, columns, paths)


def _inputs_rows(report: InspectReport) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    if report.preset:
        rows.append(("read as", f"{report.preset} export (use --preset {report.preset})"))
    elif report.suggested_preset:
        rows.append(
            (
                "looks like",
                f"a {report.suggested_preset} export: --preset {report.suggested_preset}",
            )
        )
    if report.identity is not None:
        rows.append(("merged anonymous ids", f"{report.identity['merged_ids']:,}"))
        rows.append(("identity conflicts", f"{report.identity['conflicts']:,}"))
    return rows


def validate_table(report: ValidateReport, explain: bool = False) -> RenderableType:
    """Return each file's status and its problems with locations."""
    del explain
    table = new_table()
    table.add_column("file:line:col", no_wrap=True)
    table.add_column("key", no_wrap=True)
    table.add_column("problem", overflow="fold", ratio=3)
    rows = 0
    for f in report.files:
        for p in f["problems"]:
            style = "red" if p["severity"] == "error" else "yellow"
            table.add_row(
                f"{p['file']}:{p['line']}:{p['col']}",
                p.get("key") or "",
                Text(p["message"], style=style),
            )
            rows += 1
    lines = [
        Text(f"{'✓' if f['valid'] else '✗'} {f['file']}", style="green" if f["valid"] else "red")
        for f in report.files
    ]
    return Group(*lines, table) if rows else Group(*lines)


def models_table(report: ModelsReport, explain: bool = False) -> RenderableType:
    """Return the built-in models with their stage chains."""
    table = new_table("Built-in stage models")
    table.add_column("id", no_wrap=True, style="bold")
    table.add_column("name", overflow="fold")
    table.add_column("stages", overflow="fold", ratio=3)
    for m in report.models:
        table.add_row(m["id"], m["name"], " → ".join(m["stages"]))
        if explain and m.get("description"):
            table.add_row("", "", Text(m["description"], style="dim"))
    return table


def model_table(report: ModelReport, explain: bool = False) -> RenderableType:
    """Return one model's stages in full."""
    del explain
    m = report.model
    parts: list[RenderableType] = [Text(f"{m['name']} ({m['id']})", style="bold")]
    if m.get("description"):
        parts.append(Text(m["description"], style="dim"))
    for i, s in enumerate(m["stages"], start=1):
        labels = ", ".join(f"{k}: {v}" for k, v in s.get("labels", {}).items())
        head = Text(f"\n{i}. {s['name']}", style="bold cyan")
        head.append(f"  [{s['id']}, {s['kind']}]" + (f"  ({labels})" if labels else ""), style="")
        parts.append(head)
        if s.get("description"):
            parts.append(Text("   " + s["description"]))
        if s.get("questions"):
            parts.append(Text("   Questions: " + " ".join(s["questions"]), style="dim"))
        if s.get("touchpoints"):
            parts.append(Text("   Touchpoints: " + ", ".join(s["touchpoints"]), style="dim"))
        parts.append(Text("   Events: " + " | ".join(s["event_names"])))
        parts.append(Text("   Metrics: " + ", ".join(s["metrics"]), style="dim"))
    return Group(*parts)
