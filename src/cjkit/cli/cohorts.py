"""Cohort commands: ``retention``, ``lifecycle`` and ``stickiness``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    AlphaOpt,
    ByOpt,
    ChartFormat,
    ChartFormatOpt,
    CompareOpt,
    EngineOpt,
    EventCol,
    EventsArg,
    InputFormatOpt,
    MaxDroppedOpt,
    ModelColumnsOpt,
    NoColorOpt,
    OutputOpt,
    PresetOpt,
    QueryOpt,
    SinceOpt,
    SparkConfOpt,
    SparkMasterOpt,
    StrictOpt,
    TableOpt,
    TimeCol,
    TimeFormatOpt,
    TopOpt,
    TzOpt,
    UntilOpt,
    UserCol,
    WeekStartOpt,
    check_format,
    emit,
    engine_options,
    read_options,
)

ActivityEventOpt = Annotated[
    str, typer.Option("--event", "-e", help="Event that makes a unit active (* = any).")
]
ActivityPeriodOpt = Annotated[str, typer.Option("--period", help="day, week or month.")]


@app.command()
def retention(
    events: EventsArg,
    start_event: Annotated[
        str,
        typer.Option(
            "--start-event", help="Event that opens a cohort: name, a|b, name[prop=v], * (any)."
        ),
    ] = "*",
    return_event: Annotated[
        str, typer.Option("--return-event", help="Event that counts as a return (* = any).")
    ] = "*",
    period: Annotated[str, typer.Option("--period", help="day, week, month or quarter.")] = "week",
    periods: Annotated[
        int, typer.Option("--periods", "-n", help="Columns after the cohort period (0..N).")
    ] = 8,
    cohort: Annotated[
        str, typer.Option("--cohort", help="recurring (every start period) or first-time.")
    ] = "recurring",
    cumulative: Annotated[
        bool, typer.Option("--cumulative", help="Count returns on or after period k.")
    ] = False,
    week_start: WeekStartOpt = "monday",
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: ByOpt = None,
    top: TopOpt = None,
    compare: CompareOpt = None,
    alpha: AlphaOpt = 0.05,
    fmt: ChartFormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    strict: StrictOpt = False,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = "local[*]",
    spark_conf: SparkConfOpt = None,
    model: ModelColumnsOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Cohort retention: who comes back in each later period, churn and usage per period.

    Column 0 is the cohort size; the average row pools the cohorts whose period is complete.

    Examples:
      cjkit retention examples/shop/events.parquet --start-event signup --return-event purchase
      --period month
      cjkit retention examples/shop/events.parquet --cohort first-time -n 4 --by channel
    """
    with reported("Computing retention…"):
        check_format(fmt, tuple(ChartFormat))
        from cjkit import api
        from cjkit.report.folding import top_for

        options = api.RetentionOptions(
            start_event=start_event,
            return_event=return_event,
            period=period,
            periods=periods,
            cohort=cohort,
            cumulative=cumulative,
            week_start=week_start,
            since=since,
            until=until,
            by=tuple(by or ()),
            top=top_for(fmt, top),
            compare=compare,
            alpha=alpha,
            read=read_options(
                user_col,
                event_col,
                time_col,
                tz,
                time_format,
                preset=preset,
                input_format=input_format,
                model=model,
                table=table,
                query=query,
                max_dropped=max_dropped,
                strict=strict,
            ),
        )
        from cjkit.api import spark as engines

        report = engines.retention(
            events, options, engine_options(engine, spark_master, spark_conf)
        )
        warn(report.warnings)
        emit(report, fmt, output, no_color=no_color)


@app.command()
def lifecycle(
    events: EventsArg,
    event: ActivityEventOpt = "*",
    period: ActivityPeriodOpt = "week",
    week_start: WeekStartOpt = "monday",
    since: SinceOpt = None,
    until: UntilOpt = None,
    new_basis: Annotated[
        str,
        typer.Option("--new-basis", help="event (first chosen event) or first-any-event."),
    ] = "event",
    fmt: ChartFormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    strict: StrictOpt = False,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    model: ModelColumnsOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Units per period as new, returning, resurrecting and dormant (negative).

    Examples:
      cjkit lifecycle examples/shop/events.parquet --event purchase --period month
      cjkit lifecycle examples/shop/events.parquet --since 2025-03-01 --format markdown
    """
    with reported("Computing the lifecycle…"):
        options = {
            "event": event,
            "period": period,
            "week_start": week_start,
            "since": since,
            "until": until,
        }
        read = read_options(
            user_col,
            event_col,
            time_col,
            tz,
            time_format,
            preset=preset,
            input_format=input_format,
            model=model,
            max_dropped=max_dropped,
            strict=strict,
        )
        _activity(
            "lifecycle", events, {**options, "new_basis": new_basis}, read, fmt, output, no_color
        )


@app.command()
def stickiness(
    events: EventsArg,
    event: ActivityEventOpt = "*",
    period: ActivityPeriodOpt = "week",
    week_start: WeekStartOpt = "monday",
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: ChartFormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    strict: StrictOpt = False,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    model: ModelColumnsOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Units active in exactly n periods of the range, and the average number of active periods.

    Examples:
      cjkit stickiness examples/shop/events.parquet --period day --since 2025-03-01
      --until 2025-03-31
      cjkit stickiness examples/shop/events.parquet --event purchase --period month
    """
    with reported("Computing stickiness…"):
        options = {
            "event": event,
            "period": period,
            "week_start": week_start,
            "since": since,
            "until": until,
        }
        read = read_options(
            user_col,
            event_col,
            time_col,
            tz,
            time_format,
            preset=preset,
            input_format=input_format,
            model=model,
            max_dropped=max_dropped,
            strict=strict,
        )
        _activity("stickiness", events, options, read, fmt, output, no_color)


def _activity(
    which: str,
    events: list[str],
    options: dict[str, Any],
    read: Any,
    fmt: str,
    output: Path | None,
    no_color: bool,
) -> None:
    """Run lifecycle or stickiness (same options) and render the report."""
    check_format(fmt, tuple(ChartFormat))
    from cjkit import api

    run = api.lifecycle if which == "lifecycle" else api.stickiness
    report = run(events, api.ActivityOptions(**options, read=read))
    warn(report.warnings)
    emit(report, fmt, output, no_color=no_color)
