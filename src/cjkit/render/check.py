"""Rich tables, Markdown and GitHub annotations for ``cjkit check`` (and the targets block of
``cjkit metrics``)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cjkit.render.github import annotation
from cjkit.render.metric_text import fmt_value, md_escape
from cjkit.render.table import new_table
from cjkit.report.metrics import (
    CheckReport,
    CheckResult,
)


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


def checks_table(checks: list[CheckResult], title: str) -> Table:
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


def md_checks(checks: list[CheckResult]) -> list[str]:
    icon = {"pass": "✅ pass", "skip": "➖ skip"}
    lines = ["| target | actual | bound | status |", "| --- | ---: | --- | --- |"]
    for c in checks:
        status = icon.get(c.status) or ("❌ fail" if c.severity == "error" else "⚠️ warn")
        name = c.metric.partition(".")[2]
        actual = fmt_value(name, c.actual) if c.actual is not None else "–"
        bound = _bound(c)
        lines.append(f"| `{c.metric}` | {actual} | {bound} | {status} |")
    return lines


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
    parts: list[RenderableType] = [checks_table(report.checks, title)]
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
        *md_checks(report.checks),
    ]
    failures = [c for c in report.checks if c.status != "pass"]
    if failures:
        lines.append("")
        lines += [f"- `{report.map_file}:{c.line}` {md_escape(c.message)}" for c in failures]
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
