"""Rich tables for retention (a heatmap), lifecycle and stickiness, plus their Markdown."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text

from cjkit.render.table import bar, new_table, num, pct
from cjkit.report.cohorts import (
    ChurnPeriod,
    LifecycleReport,
    RetentionCohort,
    RetentionCurve,
    RetentionReport,
    StickinessReport,
)
from cjkit.report.core import segment_text

_LETTER = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
# Heatmap ends: a pale blue for 0 and a deep blue for the table's highest rate.
_PALE = (239, 243, 255)
_DEEP = (8, 81, 156)
INCOMPLETE = "*"


def _heat(rate: float | None, top: float) -> Style:
    """Return the background style of a cell, scaled to the table's highest rate ``top``."""
    if rate is None or top <= 0:
        return Style()
    x = max(0.0, min(1.0, rate / top))
    r, g, b = (round(lo + (hi - lo) * x) for lo, hi in zip(_PALE, _DEEP, strict=True))
    fg = "white" if x > 0.5 else "black"
    return Style(color=fg, bgcolor=f"rgb({r},{g},{b})")


def _cell(rate: float | None, top: float, *, complete: bool, observed: bool) -> Text:
    if not observed:
        return Text("")
    if rate is None:
        return Text("–")
    if not complete:
        return Text(pct(rate) + INCOMPLETE, style=Style(dim=True, italic=True))
    return Text(pct(rate), style=_heat(rate, top))


def _top(cohorts: list[RetentionCohort]) -> float:
    rates = [r for c in cohorts for r in c.rates[1:] if r is not None]
    return max(rates, default=0.0)


def _cohort_table(
    title: str, cohorts: list[RetentionCohort], average: RetentionCurve, report: RetentionReport
) -> Table:
    n = int(report.settings.get("periods", len(average.rates) - 1))
    letter = _LETTER.get(str(report.settings.get("period")), "P")
    table = new_table(title)
    table.add_column("cohort", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    for k in range(1, n + 1):
        table.add_column(f"{letter}{k}", justify="right", no_wrap=True)
    top = _top(cohorts)
    for c in cohorts:
        table.add_row(
            c.cohort,
            f"{c.size:,}",
            *[
                _cell(
                    c.rates[k] if c.size else None,
                    top,
                    complete=c.complete[k],
                    observed=k < c.observed,
                )
                for k in range(1, n + 1)
            ],
        )
    table.add_section()
    table.add_row(
        Text("average", style="bold"),
        f"{average.sizes[0]:,}",
        *[Text(pct(average.rates[k]), style="bold") for k in range(1, n + 1)],
    )
    return table


def _churn_table(periods: list[ChurnPeriod], period: str) -> Table:
    table = new_table(f"Churn and usage per {period}")
    table.add_column("period", no_wrap=True)
    for name in ("active", "new", "retained", "lost", "churn", "events / unit"):
        table.add_column(name, justify="right", no_wrap=True)
    for p in periods:
        mark = "" if p.complete else INCOMPLETE
        table.add_row(
            p.period + mark,
            f"{p.active:,}",
            f"{p.new:,}",
            f"{p.retained:,}",
            f"{p.lost:,}",
            pct(p.churn_rate),
            num(p.events_per_active_unit),
        )
    return table


def _title(report: RetentionReport) -> str:
    s = report.settings
    mode = str(s.get("cohort", "recurring")) + (", on or after" if s.get("cumulative") else "")
    return (
        f"Retention by {s.get('period', 'week')} ({mode}; start {s.get('start_event', '*')}, "
        f"return {s.get('return_event', '*')})"
    )


def retention_table(report: RetentionReport, explain: bool = False) -> RenderableType:
    """Return the cohort heatmap, the average curve, churn per period and the breakdown."""
    parts: list[RenderableType] = [
        _cohort_table(_title(report), report.cohorts, report.average, report)
    ]
    summary = report.summary
    parts.append(
        Text(
            f"{INCOMPLETE} period not complete yet (data until "
            f"{report.settings.get('observed_until') or '–'}); the average uses complete "
            f"periods only. Churn {pct(summary.get('churn_rate'))} per "
            f"{report.settings.get('period', 'period')}, "
            f"{num(summary.get('events_per_active_unit'))} events per active unit.",
            style="dim",
        )
    )
    if explain:
        parts.append(
            Text(
                "Size = units with the start event in the cohort period. A cell = the share of "
                "them with the return event in that later period"
                + (" or any period after it" if report.settings.get("cumulative") else "")
                + ". Churn = units active in the previous period but not this one / units "
                "active in the previous period.",
                style="dim",
            )
        )
    for group in report.groups:
        label = f"{' / '.join(report.by)} = {segment_text(group.value)}"
        parts.append(_cohort_table(label, group.cohorts, group.average, report))
    if report.periods:
        parts.append(_churn_table(report.periods, str(report.settings.get("period", "period"))))
    if "compare" in report.extra:
        from cjkit.render.diagnose import retention_change_table

        parts.append(retention_change_table(report))
    return Group(*parts)


def _md_rates(cohorts: list[RetentionCohort], average: RetentionCurve, n: int, letter: str) -> str:
    head = "| cohort | size | " + " | ".join(f"{letter}{k}" for k in range(1, n + 1)) + " |"
    lines = [head, "| --- | ---: | " + " | ".join("---:" for _ in range(n)) + " |"]
    for c in cohorts:
        cells = [
            (pct(c.rates[k]) + ("" if c.complete[k] else INCOMPLETE)) if k < c.observed else ""
            for k in range(1, n + 1)
        ]
        lines.append(f"| {c.cohort} | {c.size:,} | " + " | ".join(cells) + " |")
    avg = [pct(average.rates[k]) for k in range(1, n + 1)]
    lines.append(f"| **average** | {average.sizes[0]:,} | " + " | ".join(avg) + " |")
    return "\n".join(lines) + "\n"


def retention_markdown(report: RetentionReport) -> str:
    """Return the cohort table (rates), the breakdown and churn per period as Markdown."""
    n = int(report.settings.get("periods", len(report.average.rates) - 1))
    letter = _LETTER.get(str(report.settings.get("period")), "P")
    out = [f"### {_title(report)}\n", _md_rates(report.cohorts, report.average, n, letter)]
    out.append(f"\n{INCOMPLETE} period not complete yet; the average uses complete periods only.\n")
    for group in report.groups:
        out.append(f"\n#### {' / '.join(report.by)} = {segment_text(group.value)}\n\n")
        out.append(_md_rates(group.cohorts, group.average, n, letter))
    if report.periods:
        out.append("\n| period | active | new | retained | lost | churn | events / unit |\n")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
        for p in report.periods:
            mark = "" if p.complete else INCOMPLETE
            out.append(
                f"| {p.period}{mark} | {p.active:,} | {p.new:,} | {p.retained:,} | {p.lost:,} "
                f"| {pct(p.churn_rate)} | {num(p.events_per_active_unit)} |\n"
            )
    return "".join(out)


# Each state has its own shade, so the bar reads the same without colour (NO_COLOR, a file).
_STATES = (
    ("new", "█", "green"),
    ("returning", "▓", "blue"),
    ("resurrecting", "▒", "yellow"),
)
_DORMANT = "░"
LEGEND = ", ".join(f"{glyph} {name}" for name, glyph, _ in _STATES) + f", {_DORMANT} dormant"


BAR = 30


def _stack(values: list[int], dormant: int, top: int, width: int = BAR) -> Text:
    text = Text()
    if top <= 0:
        return text
    for value, (_, glyph, colour) in zip(values, _STATES, strict=True):
        text.append(glyph * round(value / top * width), style=colour)
    text.append(_DORMANT * round(-dormant / top * width), style="red")
    return text


def lifecycle_table(report: LifecycleReport, explain: bool = False) -> RenderableType:
    """Return units per period by state, with a stacked bar (dormant in red, ░)."""
    s = report.settings
    table = new_table(f"Lifecycle by {s.get('period', 'week')} (event {s.get('event', '*')})")
    table.add_column("period", no_wrap=True)
    for name in ("new", "returning", "resurrecting", "dormant", "active"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    table.add_column("", no_wrap=True, max_width=BAR, overflow="crop")
    top = max((p.active - p.dormant for p in report.periods), default=0)
    for p in report.periods:
        table.add_row(
            p.period + ("" if p.complete else INCOMPLETE),
            f"{p.new:,}",
            f"{p.returning:,}",
            f"{p.resurrecting:,}",
            f"{p.dormant:,}",
            f"{p.active:,}",
            _stack([p.new, p.returning, p.resurrecting], p.dormant, top),
        )
    parts: list[RenderableType] = [table]
    note = f"{INCOMPLETE} period not complete yet. Bar: {LEGEND}."
    if explain:
        note += (
            " New = first-ever event in the period; returning = also active the period before; "
            "resurrecting = back after a gap; dormant = active the period before, not now."
        )
    parts.append(Text(note, style="dim"))
    return Group(*parts)


def stickiness_table(report: StickinessReport, explain: bool = False) -> RenderableType:
    """Return units by number of active periods, with shares and bars."""
    s = report.settings
    table = new_table(
        f"Stickiness by {s.get('period', 'week')} (event {s.get('event', '*')}; "
        f"{report.total_periods} periods, {report.units:,} units)"
    )
    table.add_column("active periods", justify="right", no_wrap=True)
    table.add_column("units", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    top = max((c["units"] for c in report.counts), default=0)
    for c in report.counts:
        share = c["units"] / report.units if report.units else None
        table.add_row(
            str(c["periods"]),
            f"{c['units']:,}",
            pct(share),
            bar(c["units"] / top if top else None),
        )
    note = f"Average active periods: {num(report.avg_active_periods)}"
    if explain:
        note += " (over units active at least once in the range)."
    return Group(table, Text(note, style="dim"))
