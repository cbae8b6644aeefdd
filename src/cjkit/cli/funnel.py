"""``cjkit funnel``: how many units reach each step, how fast, and where they drop off."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    AlphaOpt,
    ByOpt,
    ChartFormat,
    ChartFormatOpt,
    CompareOpt,
    CorrelateExcludeOpt,
    CorrelateOpt,
    EngineOpt,
    EventCol,
    EventsArg,
    InputFormatOpt,
    InsightPeriodOpt,
    MaxDroppedOpt,
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
    check_format,
    emit,
    engine_options,
    read_options,
)


@app.command()
def funnel(
    events: EventsArg,
    step: Annotated[
        list[str] | None,
        typer.Option(
            "--step", "-s", help="A step: name, a|b (either), or name[prop=value]. Repeat."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="A built-in model or map file.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", "-w", help="Conversion window [default: 14d].")
    ] = None,
    order: Annotated[str | None, typer.Option("--order", help="ordered, strict or any.")] = None,
    window_anchor: Annotated[
        str | None, typer.Option("--window-anchor", help="latest or first.")
    ] = None,
    allow_event_reuse: Annotated[
        bool | None,
        typer.Option(
            "--allow-event-reuse/--no-event-reuse", help="Let one event fill several steps."
        ),
    ] = None,
    strict_increase: Annotated[
        bool | None,
        typer.Option(
            "--strict-increase/--allow-ties", help="Forbid equal timestamps between steps."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="EVENT, or EVENT:A-B between steps A and B."),
    ] = None,
    aggregate_by: Annotated[
        str | None,
        typer.Option("--aggregate-by", help="Count units of this property (e.g. session_id)."),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: ByOpt = None,
    attribution: Annotated[
        str, typer.Option("--attribution", help="first, last or step:N.")
    ] = "first",
    units: Annotated[
        Path | None, typer.Option("--units", help="Write one row per unit (CSV or Parquet).")
    ] = None,
    compare: CompareOpt = None,
    alpha: AlphaOpt = 0.05,
    top: TopOpt = None,
    trend: Annotated[
        str | None, typer.Option("--trend", help="day, week or month: conversion by entry period.")
    ] = None,
    ttc_from: Annotated[
        int | None, typer.Option("--ttc-from", help="Time-to-convert histogram from step A.")
    ] = None,
    ttc_to: Annotated[
        int | None, typer.Option("--ttc-to", help="… to step B [default: the last].")
    ] = None,
    ttc_bins: Annotated[
        str | None, typer.Option("--ttc-bins", help="auto or N histogram bins (PostHog's rule).")
    ] = None,
    correlate: CorrelateOpt = None,
    correlate_exclude: CorrelateExcludeOpt = None,
    period: InsightPeriodOpt = None,
    fmt: ChartFormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    strict: StrictOpt = False,
    step_exact: Annotated[
        bool,
        typer.Option("--step-exact", help="Take each --step as one event name, as written."),
    ] = False,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    engine: EngineOpt = "local",
    spark_master: SparkMasterOpt = "local[*]",
    spark_conf: SparkConfOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Count how many units reach each step, how fast, and where they drop off.

    --compare, --by (each segment against the rest), --trend, --ttc-from/--ttc-to and
    --correlate add significance-tested insight (needs scipy: pip install 'cjkit[stats]').

    Examples:
      cjkit funnel examples/shop/events.parquet -s visit -s signup -s purchase --window 7d
      cjkit funnel examples/shop/events.parquet --model aarrr --by channel
      cjkit funnel examples/shop/events.parquet -s visit -s 'add_to_cart|purchase' --order any
    """
    with reported("Computing the funnel…"):
        check_format(fmt, tuple(ChartFormat))
        from cjkit import api
        from cjkit.report.folding import top_for

        options = api.FunnelOptions(
            steps=tuple(step or ()),
            step_exact=step_exact,
            model=model,
            window=window,
            order=order,
            anchor=window_anchor,
            allow_event_reuse=allow_event_reuse,
            strict_increase=strict_increase,
            exclude=tuple(exclude or ()),
            aggregate_by=aggregate_by,
            since=since,
            until=until,
            by=tuple(by or ()),
            attribution=attribution,
            fold=top_for(fmt, None),
            insight=api.InsightOptions(
                compare=compare,
                alpha=alpha,
                trend=trend,
                ttc_from=ttc_from,
                ttc_to=ttc_to,
                ttc_bins=ttc_bins,
                correlate=correlate,
                correlate_exclude=tuple(correlate_exclude or ()),
                top=top,
                period=period,
            ),
            read=read_options(
                user_col,
                event_col,
                time_col,
                tz,
                time_format,
                preset=preset,
                input_format=input_format,
                table=table,
                query=query,
                max_dropped=max_dropped,
                strict=strict,
            ),
        )
        from cjkit.api import spark as engines

        run = engines.funnel(events, options, engine_options(engine, spark_master, spark_conf))
        warn(run.warnings)
        if units is not None:
            from cjkit.io.output import write_frame

            write_frame(units, run.units)
        emit(run.report, fmt, output, no_color=no_color)
