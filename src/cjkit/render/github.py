"""GitHub Actions workflow commands (``::error file=…,line=…::…``) for annotations."""

from __future__ import annotations

from cjkit.report.core import ValidateReport


def escape_data(text: str) -> str:
    """Escape a message for a workflow command (GitHub's own escaping rules)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title) for a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, file: str, line: int, col: int | None, title: str, message: str) -> str:
    """Return one ``::error``/``::warning`` line."""
    where = f"file={escape_property(file)},line={line}"
    if col:
        where += f",col={col}"
    return f"::{level} {where},title={escape_property(title)}::{escape_data(message)}\n"


def validate_annotations(report: ValidateReport) -> str:
    """Return one annotation per validation problem."""
    lines = []
    for f in report.files:
        for p in f["problems"]:
            level = "error" if p["severity"] == "error" else "warning"
            message = f"{p['key']}: {p['message']}" if p.get("key") else p["message"]
            lines.append(
                annotation(level, p["file"], p["line"], p["col"], "cjkit validate", message)
            )
    return "".join(lines)
