"""``cjkit diagnose`` (ranked findings: where the journey leaks, for whom, and what changed)
and ``cjkit journey`` (one unit's timeline)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    AlphaOpt,
    ByOpt,
    CompareOpt,
    CorrelateExcludeOpt,
    CorrelateOpt,
    EventCol,
    EventsArg,
    FormatOpt,
    InsightPeriodOpt,
    MaxDroppedOpt,
    ModelReqOpt,
    NoColorOpt,
    OutputOpt,
    SinceOpt,
    StrictOpt,
    TimeCol,
    TimeFormatOpt,
    TzOpt,
    UntilOpt,
    UserCol,
    check_format,
    emit,
    read_options,
)

FORMATS = ("table", "json", "csv", "markdown", "github")


@app.command()
def diagnose(
    events: EventsArg,
    model: ModelReqOpt,
    by: ByOpt = None,
    compare: CompareOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    alpha: AlphaOpt = 0.05,
    top: Annotated[
        int, typer.Option("--top", help="Segments kept per column; the rest fold into (other).")
    ] = 20,
    limit: Annotated[int, typer.Option("--limit", help="Findings to show.")] = 10,
    correlate: CorrelateOpt = None,
    correlate_exclude: CorrelateExcludeOpt = None,
    period: InsightPeriodOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, csv, markdown or github.")
    ] = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    strict: StrictOpt = False,
    no_color: NoColorOpt = False,
) -> None:
    """Rank what holds the journey back: the largest drop, segments worse than the rest,
    changes since the compared period, slowdowns, correlated events, targets at risk.

    Every p-value is corrected together (Benjamini–Hochberg at --alpha). Needs scipy:
    pip install 'cjkit[stats]'.

    Examples:
      cjkit diagnose examples/shop/events.parquet --model examples/shop/map.yaml
      --compare previous
      cjkit diagnose examples/shop/events.parquet --model aarrr --by channel --format markdown
    """
    with reported("Diagnosing the journey…"):
        check_format(fmt, FORMATS)
        from cjkit import api

        options = api.DiagnoseOptions(
            model=model,
            by=tuple(by or ()),
            since=since,
            until=until,
            compare=compare,
            alpha=alpha,
            top=top,
            limit=limit,
            correlate=correlate,
            correlate_exclude=tuple(correlate_exclude or ()),
            period=period,
            read=read_options(
                user_col,
                event_col,
                time_col,
                tz,
                time_format,
                max_dropped=max_dropped,
                strict=strict,
            ),
        )
        report = api.diagnose(events, options)
        warn(report.warnings)
        if fmt == "github":
            from cjkit.render.diagnose import diagnose_github

            text = diagnose_github(report)
            if output is not None:
                from cjkit.io.output import write_text

                write_text(output, text)
            else:
                sys.stdout.write(text)
            return
        emit(report, fmt, output, no_color=no_color)


@app.command()
def journey(
    events: EventsArg,
    unit: Annotated[str, typer.Option("--unit", "-u", help="The unit (user) to follow.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="A built-in model or map file.")
    ] = None,
    step: Annotated[
        list[str] | None, typer.Option("--step", "-s", help="A step, without --model. Repeat.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", "-w", help="Conversion window [default: 14d].")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="Events to show.")] = 500,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Follow one unit: its timeline, the stage each event filled, the furthest stage, and why
    it stopped there (no next event, the window ran out, or an exclusion).

    Examples:
      cjkit journey examples/shop/events.parquet --unit u000042 --model aarrr
      cjkit journey examples/shop/events.parquet -u u000042 -s visit -s signup -s purchase
      --format json
    """
    with reported("Following the unit…"):
        check_format(fmt)
        from cjkit import api

        options = api.JourneyOptions(
            unit=unit,
            model=model,
            steps=tuple(step or ()),
            window=window,
            since=since,
            until=until,
            limit=limit,
            read=read_options(
                user_col, event_col, time_col, tz, time_format, max_dropped=max_dropped
            ),
        )
        report = api.journey(events, options)
        warn(report.warnings)
        emit(report, fmt, output, no_color=no_color)
