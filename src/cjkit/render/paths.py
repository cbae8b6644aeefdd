"""Rich tables for paths: who is in them, top paths, edges, endings, step matrix, transitions.

The default view fits one screen: a sentence on the population, then the top paths, the
heaviest edges and where paths end. Colour is decoration only: every cell carries its number,
so the tables read the same with ``NO_COLOR``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from cjkit.durations import format_duration
from cjkit.render.table import new_table, pct
from cjkit.report.paths import PathsReport, StepMatrix

TOP_PATHS, TOP_EDGES, TOP_ENDINGS, TOP_TRANSITIONS = 8, 10, 6, 15
ARROW = " → "
_POS, _NEG = (8, 81, 156), (165, 15, 21)  # deep blue for shares (and gains), red for losses


def _population(report: PathsReport) -> str:
    s = report.settings
    funnel = s.get("funnel")
    paths = f"{report.total_paths:,} paths of {report.total_units:,} units"
    if funnel:
        k, steps, mode = int(funnel["step"]), funnel["steps"], funnel["mode"]
        window = format_duration(funnel["window_seconds"])
        if k > 0:
            who = f"units that reached step {k} ({steps[k - 1]})"
            where = {
                "after": f"after {steps[k - 1]}",
                "before": f"before {steps[k - 1]}",
                "between": f"between {steps[k - 2] if k > 1 else ''} and {steps[k - 1]}",
            }[mode]
        else:
            reached, missed = steps[-k - 2], steps[-k - 1]
            who = f"units that reached {reached} but not {missed} (window {window})"
            where = {
                "after": f"after {reached}",
                "before": f"up to {reached} + {window}",
                "between": f"from {reached} to {reached} + {window}",
            }[mode]
        return f"Paths {where}, of the {who}: {paths}, split at gaps of {window}."
    parts = [paths]
    if s.get("start"):
        parts.append(f"from {s['start']}")
    if s.get("end"):
        parts.append(f"to {s['end']}")
    if s.get("session_seconds"):
        parts.append(f"sessions split at {format_duration(s['session_seconds'])} of inactivity")
    return "Paths: " + ", ".join(parts) + "."


def _top_paths(report: PathsReport) -> Table:
    table = new_table("Top paths (complete, after the step limit)")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("path")
    for name in ("paths", "units", "share"):
        table.add_column(name, justify="right", no_wrap=True)
    for i, p in enumerate(report.paths[:TOP_PATHS], start=1):
        table.add_row(str(i), ARROW.join(p.nodes), f"{p.paths:,}", f"{p.units:,}", pct(p.share))
    return table


def _edges(report: PathsReport) -> Table:
    table = new_table("Heaviest edges (step k: from → to)")
    table.add_column("step", justify="right", no_wrap=True)
    table.add_column("from → to")
    for name in ("paths", "units", "median time", "mean time"):
        table.add_column(name, justify="right", no_wrap=True)
    for link in report.links[:TOP_EDGES]:
        table.add_row(
            str(link.step),
            f"{link.source}{ARROW}{link.target}",
            f"{link.value:,}",
            f"{link.units:,}",
            format_duration(link.median_time_s),
            format_duration(link.mean_time_s),
        )
    return table


def _endings(report: PathsReport) -> Table:
    limit = int(report.settings.get("steps", 0))
    table = new_table(
        "Where paths end (drop-off)",
        caption=f"(step {limit} left out: --steps {limit} cuts every path there)",
    )
    table.add_column("step", justify="right", no_wrap=True)
    table.add_column("node")
    for name in ("paths there", "end there", "of those"):
        table.add_column(name, justify="right", no_wrap=True)
    ranked = sorted(report.nodes, key=lambda n: (-n.drop_off, n.step, n.node))
    for n in [n for n in ranked if n.drop_off and n.step < limit][:TOP_ENDINGS]:
        table.add_row(
            str(n.step), n.node, f"{n.paths:,}", f"{n.drop_off:,}", pct(n.drop_off / n.paths)
        )
    return table


def _shade(value: float, top: float) -> Style:
    if top <= 0 or value == 0:
        return Style()
    x = max(0.0, min(1.0, abs(value) / top))
    hi = _POS if value > 0 else _NEG
    r, g, b = (round(255 + (h - 255) * x) for h in hi)
    return Style(color="white" if x > 0.5 else "black", bgcolor=f"rgb({r},{g},{b})")


def _signed(value: float) -> str:
    return f"{value * 100:+.1f}" if round(value * 1000) else "0.0"


def _matrix(matrix: StepMatrix) -> Table:
    diff = matrix.diff
    if diff:
        title = (
            f"Differential step matrix: {diff['group']} ({diff['group_paths']:,} paths) minus "
            f"the rest ({diff['rest_paths']:,} paths), percentage points"
        )
    else:
        title = f"Step matrix: share of the {matrix.paths:,} paths with each event at step k"
    table = new_table(title)
    table.add_column("event")
    for k in range(1, matrix.steps + 1):
        table.add_column(str(k), justify="right", no_wrap=True)
    top = max((abs(v) for _, shares in matrix.rows for v in shares), default=0.0)
    for event, shares in matrix.rows:
        cells = [Text(_signed(v) if diff else pct(v), style=_shade(v, top)) for v in shares]
        table.add_row(event, *cells)
    return table


def _transitions(report: PathsReport) -> Table:
    table = new_table("Transitions (event → next event, whole paths)")
    table.add_column("from → to")
    for name in ("count", "paths", "of from", "median time"):
        table.add_column(name, justify="right", no_wrap=True)
    for t in (report.transitions or [])[:TOP_TRANSITIONS]:
        table.add_row(
            f"{t.source}{ARROW}{t.target}",
            f"{t.count:,}",
            f"{t.unique_paths:,}",
            pct(t.proba_out),
            format_duration(t.median_time_s),
        )
    return table


def paths_table(report: PathsReport, explain: bool = False) -> RenderableType:
    """Return the population sentence, top paths, edges and endings (then the matrix and the
    transitions when asked for)."""
    parts: list[RenderableType] = [Text(_population(report), style="bold")]
    if not report.total_paths:
        parts.append(Text("No paths: no unit has events that match."))
        return Group(*parts)
    parts += [_top_paths(report), _edges(report), _endings(report)]
    if report.step_matrix is not None:
        parts.append(_matrix(report.step_matrix))
    if report.transitions is not None:
        parts.append(_transitions(report))
    if report.pruned_links:
        parts.append(
            Text(
                f"{report.pruned_links:,} lighter edges pruned (--top {report.settings['top']}, "
                f"--min-units {report.settings['min_units']}); raise --top to keep more.",
                style="dim",
            )
        )
    if explain:
        parts.append(Text(_explain(report.settings), style="dim"))
    return Group(*parts)


def _explain(settings: dict[str, Any]) -> str:
    return (
        "A path is a unit's events in time order, consecutive repeats collapsed (keeping the "
        "last time). Edge and node counts are paths, as in PostHog; units are distinct units. "
        f"Paths keep {settings['steps']} nodes (--steps)."
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def paths_markdown(report: PathsReport) -> str:
    """Return top paths and edges as Markdown tables."""
    lines = [
        f"**{_population(report)}**",
        "",
        "| # | path | paths | units | share |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for i, p in enumerate(report.paths[:TOP_PATHS], start=1):
        lines.append(
            f"| {i} | {_md(ARROW.join(p.nodes))} | {p.paths:,} | {p.units:,} | {pct(p.share)} |"
        )
    lines += [
        "",
        "| step | from → to | paths | units | median time |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for link in report.links[:TOP_EDGES]:
        lines.append(
            f"| {link.step} | {_md(link.source + ARROW + link.target)} | {link.value:,} | {link.units:,} "
            f"| {format_duration(link.median_time_s)} |"
        )
    return "\n".join(lines) + "\n"
