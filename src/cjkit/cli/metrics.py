"""Model commands: ``metrics`` (walk a model stage by stage) and ``check`` (its targets)."""

from __future__ import annotations

from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    AlphaOpt,
    ByOpt,
    CheckFormatOpt,
    CompareOpt,
    EventCol,
    EventsArg,
    FormatOpt,
    InputFormatOpt,
    MaxDroppedOpt,
    ModelReqOpt,
    NoColorOpt,
    OutputOpt,
    PresetOpt,
    QueryOpt,
    SinceOpt,
    SpendOpt,
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
    read_options,
)


@app.command()
def metrics(
    events: EventsArg,
    model: ModelReqOpt,
    by: ByOpt = None,
    top: TopOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="day, week, month or quarter [default: the map's, week]."),
    ] = None,
    spend: SpendOpt = None,
    compare: CompareOpt = None,
    alpha: AlphaOpt = 0.05,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show each stage's description.")
    ] = False,
    fmt: FormatOpt = "table",
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
    no_color: NoColorOpt = False,
) -> None:
    """Walk a model stage by stage: funnel numbers and each stage's own metrics.

    Acquisition (new units, CAC), activation, retention and churn, referral (k-factor),
    revenue (ARPU, AOV, LTV) and satisfaction (NPS). Without --by, a map's segments are the
    breakdowns. --compare previous|A..B adds each stage's funnel numbers against the compared
    period, with significance (needs scipy: pip install 'cjkit[stats]').

    Examples:
      cjkit metrics examples/shop/events.parquet --model aarrr
      cjkit metrics examples/shop/events.parquet --model examples/shop/map.yaml --explain
      cjkit metrics examples/shop/events.parquet -m aarrr --by channel -f json -o metrics.json
    """
    with reported("Computing the metrics…"):
        check_format(fmt)
        from cjkit import api
        from cjkit.report.folding import top_for

        options = api.MetricsOptions(
            model=model,
            by=tuple(by or ()),
            top=top_for(fmt, top),
            since=since,
            until=until,
            period=period,
            spend=spend,
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
                table=table,
                query=query,
                max_dropped=max_dropped,
                strict=strict,
            ),
        )
        report = api.metrics(events, options)
        warn(report.warnings)
        emit(report, fmt, output, explain=explain, no_color=no_color)


@app.command()
def check(
    events: EventsArg,
    model: ModelReqOpt,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="A metrics JSON of an earlier run, for max_drop bounds."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail (exit 1) on warn targets too. Not the analyses' --strict: an unknown "
            "event name stays a warning here.",
        ),
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Always exit 0 when the check ran.")
    ] = False,
    summary: Annotated[
        bool,
        typer.Option("--summary", help="Append a Markdown report to $GITHUB_STEP_SUMMARY."),
    ] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    spend: SpendOpt = None,
    fmt: CheckFormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Evaluate a map's targets; exit 1 when an error target fails (a CI gate).

    Warn targets fail only with --strict. --format github prints ::error/::warning
    annotations at each target's line in the map.

    Examples:
      cjkit check examples/shop/events.parquet --model examples/shop/map.yaml
      cjkit check examples/shop/events.parquet --model examples/shop/map.yaml --format github
      --summary --exit-zero
    """
    with reported("Checking the targets…"):
        from cjkit import api
        from cjkit.errors import OutputError
        from cjkit.render.formats import append_step_summary

        options = api.CheckOptions(
            model=model,
            baseline=baseline,
            since=since,
            until=until,
            spend=spend,
            strict=strict,
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
            ),
        )
        report = api.check(events, options)
        warn(report.warnings)
        emit(report, fmt, output, no_color=no_color)
        try:
            problem = append_step_summary(report) if summary else None
        except OutputError as exc:
            raise OutputError(f"--summary: {exc}") from None
        warn([f"--summary: {problem}"] if problem else [])
    if not report.ok and not exit_zero:
        raise typer.Exit(1)
