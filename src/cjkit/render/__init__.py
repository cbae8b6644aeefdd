"""Renderers: JSON, CSV and Markdown for machines; rich tables for people.

Only modules in this package import rich. :mod:`cjkit.render.draw` says which function draws
which report class (its table, and its own Markdown where it has one; else Markdown is the tidy
rows as a table).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from cjkit.errors import UsageError
from cjkit.io.output import write_text
from cjkit.report import Report, folding

FORMATS = ("table", "json", "jsonl", "csv", "markdown")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def generated_at() -> str:
    """Return the time a document is made, in UTC, to the second.

    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention: seconds since 1970) fixes it,
    so the same input gives byte-identical files; golden tests set it to 0.
    """
    from datetime import UTC, datetime

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            moment = datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(
                f"SOURCE_DATE_EPOCH: expected whole seconds since 1970, got {epoch!r}"
            ) from None
    else:
        moment = datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def document(report: Report) -> dict[str, Any]:
    """Return the report's JSON document with ``cjkit_version`` and ``generated_at`` after
    ``schema_version`` and ``kind`` (NaN and infinity become null)."""
    from cjkit import __version__

    body = _clean(report.to_dict())
    head = {k: body.pop(k) for k in ("schema_version", "kind") if k in body}
    return {**head, "cjkit_version": __version__, "generated_at": generated_at(), **body}


def to_json(report: Report) -> str:
    """Return the report's JSON document (see :func:`document`)."""
    return json.dumps(document(report), indent=2, ensure_ascii=False, default=str) + "\n"


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    """Return tidy rows as JSON Lines: one object per row (NaN and infinity become null)."""
    return "".join(json.dumps(_clean(row), ensure_ascii=False, default=str) + "\n" for row in rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else repr(value)
    if isinstance(value, list | tuple):
        return "|".join(_cell(v) for v in value)
    return str(value)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Return tidy rows as CSV (fractions at full precision, empty cells for null)."""
    out = io.StringIO()
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return out.getvalue()


def rows_markdown(rows: list[dict[str, Any]]) -> str:
    """Return tidy rows as a GitHub-flavoured Markdown table."""
    if not rows:
        return "_no rows_\n"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---:" if _numeric(rows, c) else "---" for c in columns) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_md_cell(row.get(c), c) for c in columns) + " |")
    return "\n".join(lines) + "\n"


# Column names that say what a number is, so Markdown shows it as the tables do.
_PERCENT_WORDS = ("conversion", "rate", "share", "churn")


def _md_kind(column: str) -> str | None:
    """Return ``percent`` or ``duration`` for a tidy column named like one, else None."""
    if column.endswith("_s") or column.endswith("_seconds"):
        return "duration"
    if any(word in column for word in _PERCENT_WORDS):
        return "percent"
    return None


def _numeric(rows: list[dict[str, Any]], column: str) -> bool:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def _md_cell(value: Any, column: str = "") -> str:
    kind = (
        _md_kind(column) if isinstance(value, int | float) and not isinstance(value, bool) else None
    )
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "duration":
        from cjkit.durations import format_duration

        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return _cell(value).replace("|", "\\|")


def to_markdown(report: Report) -> str:
    """Return the report as Markdown for a PR comment or ``$GITHUB_STEP_SUMMARY``."""
    from cjkit.render import draw

    custom = draw.markdown(report)
    text = custom if custom is not None else rows_markdown(report.to_rows())
    notes = folding.lines(report)
    return text + "".join(f"\n_{line}_\n" for line in notes) if notes else text


def use_color(*, no_color: bool = False) -> bool | None:
    """Return False to force plain text, True to force colour, None to let rich decide."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None


def to_table(
    report: Report, *, explain: bool = False, color: bool | None = None, width: int | None = None
) -> str:
    """Return the rich table of a report as text (ANSI codes only when colour is on)."""
    from cjkit.render.console import capture

    return capture(_table_of(report, explain), color=color, width=width)


def _table_of(report: Report, explain: bool) -> Any:
    """Return the table renderable of a report, with the line about folded breakdowns."""
    from cjkit.render.draw import renderable

    return renderable(report, explain)


def emit(
    report: Report,
    fmt: str,
    output: Path | None = None,
    *,
    explain: bool = False,
    no_color: bool = False,
) -> None:
    """Write the report in ``fmt`` to ``output`` (atomically) or to stdout.

    Formats beyond :data:`FORMATS` come from ``cjkit.render.formats.<kind>_<fmt>``.
    """
    from cjkit.render import formats

    extra = getattr(formats, f"{report.kind}_{fmt}", None)
    if fmt not in FORMATS and extra is None:
        raise UsageError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    from cjkit import progress

    progress.clear()  # the spinner (stderr, TTY only) is gone before any output appears
    if extra is not None:
        text = extra(report)
    elif fmt == "json":
        text = to_json(report)
    elif fmt == "jsonl":
        text = to_jsonl(report.to_rows())
    elif fmt == "csv":
        text = to_csv(report.to_rows())
    elif fmt == "markdown":
        text = to_markdown(report)
    else:
        color = False if output is not None else use_color(no_color=no_color)
        if output is None and color is not False and sys.stdout.isatty():
            from cjkit.render.console import print_out

            print_out(_table_of(report, explain), color=color)
            return
        text = to_table(report, explain=explain, color=False if color is None else color)
    if output is not None:
        write_text(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
