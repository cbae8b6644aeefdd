"""Options shared by several commands, as ``Annotated`` aliases, and the helpers that use them.

Use an alias for any flag that more than one command has (``fmt: FormatOpt = "table"``), and
build the read options with :func:`read_options` so every command reads events the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cjkit.cli.app import err
from cjkit.errors import UsageError

if TYPE_CHECKING:
    from cjkit.api import ReadOptions


class Format(StrEnum):
    """Output formats of the analysis commands (typer rejects others with exit 2)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    jsonl = "jsonl"


class ChartFormat(StrEnum):
    """Output formats of the analyses that also draw a one-page HTML chart (``--format html``)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    jsonl = "jsonl"
    html = "html"


class ReportFormat(StrEnum):
    """Output formats of ``report``: the HTML page, or its numbers as JSON."""

    html = "html"
    json = "json"


class ValidateFormat(StrEnum):
    """Output formats of ``validate``."""

    table = "table"
    json = "json"
    github = "github"


class ModelFormat(StrEnum):
    """Output formats of ``models show``."""

    table = "table"
    yaml = "yaml"
    json = "json"
    markdown = "markdown"
    csv = "csv"
    jsonl = "jsonl"


class CheckFormat(StrEnum):
    """Output formats of ``check``."""

    table = "table"
    json = "json"
    markdown = "markdown"
    github = "github"
    jsonl = "jsonl"


EventsArg = Annotated[
    list[str], typer.Argument(help="Event files, globs or folders.", show_default=False)
]


def _format_option(choices: type[StrEnum]) -> Any:
    """Return a ``--format`` option that accepts only ``choices`` (else exit 2, one line)."""
    names = [c.value for c in choices]

    def check(value: str) -> str:
        if value not in names:
            # One line in the house style of every flag check (``--order: expected one of …``).
            err(f"Error: --format: expected one of {', '.join(names)}, got {value!r}")
            raise typer.Exit(2)
        return value

    return typer.Option(
        "--format",
        "-f",
        help="Output format.",
        metavar="|".join(names),
        callback=check,
        autocompletion=lambda incomplete: [n for n in names if n.startswith(incomplete)],
    )


FormatOpt = Annotated[str, _format_option(Format)]
ChartFormatOpt = Annotated[str, _format_option(ChartFormat)]
ReportFormatOpt = Annotated[str, _format_option(ReportFormat)]
ValidateFormatOpt = Annotated[str, _format_option(ValidateFormat)]
ModelFormatOpt = Annotated[str, _format_option(ModelFormat)]
CheckFormatOpt = Annotated[str, _format_option(CheckFormat)]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
]
UserCol = Annotated[str | None, typer.Option("--user-col", help="Unit column [default: user_id].")]
EventCol = Annotated[str | None, typer.Option("--event-col", help="Event column [default: event].")]
TimeCol = Annotated[
    str | None, typer.Option("--time-col", help="Time column [default: timestamp].")
]
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="Zone of naive times and periods [default: UTC].")
]
TimeFormatOpt = Annotated[
    str | None,
    typer.Option("--time-format", help="auto, iso, date, epoch_s, epoch_ms, epoch_us or epoch_ns."),
]
PresetOpt = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="Read a vendor export: posthog, mixpanel, amplitude, ga4, segment, shopify.",
    ),
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option("--input-format", help="csv, tsv, ndjson or parquet (for - or odd suffixes)."),
]
# --- remote inputs and engines (cjkit.io.remote, cjkit.api.spark) ---
TableOpt = Annotated[
    str | None,
    typer.Option("--table", help="Read this table of a postgresql:// URI or .duckdb file."),
]
QueryOpt = Annotated[
    str | None,
    typer.Option("--query", help="Read the rows of this SQL query (instead of --table)."),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine", help="local, or spark: phase 1 on Spark (pip install 'cjkit[spark]')."
    ),
]
SparkMasterOpt = Annotated[
    str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
]
SparkConfOpt = Annotated[
    list[str] | None,
    typer.Option("--spark-conf", help="A Spark setting KEY=VALUE for --engine spark (repeatable)."),
]
# --- end of remote inputs and engines ---
SinceOpt = Annotated[str | None, typer.Option("--since", help="First date or time (inclusive).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Last date (whole day) or time.")]
ByOpt = Annotated[
    list[str] | None, typer.Option("--by", help="Break down by a property (repeatable).")
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="Plain text, no colours.")]
ModelColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--model", "-m", help="A built-in model or map file whose data block names the columns."
    ),
]
WeekStartOpt = Annotated[str, typer.Option("--week-start", help="monday or sunday.")]
ModelReqOpt = Annotated[
    str, typer.Option("--model", "-m", help="A built-in model or a map file.", show_default=False)
]
# Not ``check --strict`` (fail on warn targets): this one is about the data's event names.
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Fail (exit 2) when a step or stage event never occurs in the data (else a warning).",
    ),
]


class Share(str):
    """A ``--max-dropped`` value, with the name its errors give it (the flag or the config)."""

    label = "--max-dropped"


def _max_dropped_value(ctx: typer.Context, value: str | None) -> str | None:
    """Check a ``--max-dropped`` share at parse time (one line, exit 2) and note its source.

    The flag outranks ``CJKIT_MAX_DROPPED``, which outranks a config file's ``max-dropped``
    (the variables outrank the files): with the variable set, the file's value is dropped and
    the library reads the variable itself.
    """
    if value is None or not str(value).strip():
        return None
    from cjkit.environment import MAX_DROPPED, parse_share

    from_file = getattr(ctx.get_parameter_source("max_dropped"), "name", "") == "DEFAULT_MAP"
    if from_file and os.environ.get(MAX_DROPPED, "").strip():
        return None
    share = Share(str(value))
    share.label = "max-dropped (config)" if from_file else "--max-dropped"
    try:
        parse_share(share, share.label)
    except UsageError as exc:
        err(f"Error: {exc}")
        raise typer.Exit(2) from None
    return share


MaxDroppedOpt = Annotated[
    str | None,
    typer.Option(
        "--max-dropped",
        metavar="SHARE",
        help="Fail (exit 2) when more than this share of rows (1%, 0.01) has no unit or no time "
        "[default: $CJKIT_MAX_DROPPED, else no limit].",
        show_default=False,
        callback=_max_dropped_value,
    ),
]
SpendOpt = Annotated[
    str | None,
    typer.Option("--spend", help="Spend file (CSV or Parquet: date, channel, amount) for CAC."),
]


def read_options(
    user_col: str | None = None,
    event_col: str | None = None,
    time_col: str | None = None,
    tz: str | None = None,
    time_format: str | None = None,
    *,
    preset: str | None = None,
    input_format: str | None = None,
    model: str | None = None,
    table: str | None = None,
    query: str | None = None,
    strict: bool = False,
    max_dropped: str | None = None,
) -> ReadOptions:
    """Return the library's read options for the column, zone, time-format and input flags,
    ``--strict`` and ``--max-dropped`` (raise UsageError for a bad share)."""
    from cjkit.api import ReadOptions

    share, share_name = _max_dropped(max_dropped)
    return ReadOptions(
        user_col=user_col,
        event_col=event_col,
        time_col=time_col,
        tz=tz,
        time_format=time_format,
        preset=preset,
        input_format=input_format,
        model=model,
        table=table,
        query=query,
        strict=strict,
        max_dropped=share,
        max_dropped_name=share_name,
    )


def _max_dropped(text: str | None) -> tuple[float | None, str]:
    """Return ``--max-dropped`` as a share and the name its errors give it."""
    from cjkit.environment import parse_share

    if text is None or not text.strip():
        return None, "--max-dropped"
    label = getattr(text, "label", "--max-dropped")
    return parse_share(text, label), label


def engine_options(engine: str, master: str, conf: list[str] | None) -> Any:
    """Return the library's engine options for ``--engine``, ``--spark-master``, ``--spark-conf``."""
    from cjkit.api.spark import EngineOptions

    return EngineOptions(engine=engine, master=master, conf=tuple(conf or ()))


def emit(
    report: Any, fmt: str, output: Path | None, *, explain: bool = False, no_color: bool = False
) -> None:
    """Render ``report`` in ``fmt`` to ``output`` (stdout when None)."""
    from cjkit import render

    render.emit(report, fmt, output, explain=explain, no_color=no_color)


def check_format(fmt: str, allowed: Sequence[str] = tuple(Format)) -> None:
    """Raise a UsageError unless ``fmt`` is one of ``allowed`` (the enums already check)."""
    if fmt not in allowed:
        raise UsageError(f"--format: expected one of {', '.join(allowed)}, got {fmt!r}")


# --- insight flags (funnel, diagnose): cjkit.api.insight.InsightOptions ---------------------
CompareOpt = Annotated[
    str | None,
    typer.Option(
        "--compare",
        help="previous (the range just before, or the last complete period) or A..B.",
    ),
]
AlphaOpt = Annotated[
    float, typer.Option("--alpha", help="False-discovery rate for significance (BH).")
]
TopOpt = Annotated[
    int | None, typer.Option("--top", help="Keep the N largest segments; fold the rest.")
]
CorrelateOpt = Annotated[
    str | None,
    typer.Option("--correlate", help="events, properties, or PROP[,PROP…] (PostHog-style)."),
]
CorrelateExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--correlate-exclude", help="An event to leave out of --correlate (repeat)."),
]
InsightPeriodOpt = Annotated[
    str | None,
    typer.Option("--period", help="The period --compare previous uses without a range."),
]
