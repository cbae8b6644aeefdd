"""Model commands: ``metrics`` (walk a model stage by stage) and ``check`` (its targets)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    ByOpt,
    EventCol,
    EventsArg,
    FormatOpt,
    InputFormatOpt,
    ModelReqOpt,
    NoColorOpt,
    OutputOpt,
    PresetOpt,
    SinceOpt,
    SpendOpt,
    TimeCol,
    TimeFormatOpt,
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
    since: SinceOpt = None,
    until: UntilOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="day, week, month or quarter [default: the map's, week]."),
    ] = None,
    spend: SpendOpt = None,
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
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Walk a model stage by stage: funnel numbers and each stage's own metrics.

    Acquisition (new units, CAC), activation, retention and churn, referral (k-factor),
    revenue (ARPU, AOV, LTV) and satisfaction (NPS). Without --by, a map's segments are the
    breakdowns.

    Example: cjkit metrics examples/shop/events.parquet --model aarrr
    """
    with reported("Computing the metrics…"):
        check_format(fmt)
        from cjkit import api

        options = api.MetricsOptions(
            model=model,
            by=tuple(by or ()),
            since=since,
            until=until,
            period=period,
            spend=spend,
            read=read_options(
                user_col,
                event_col,
                time_col,
                tz,
                time_format,
                preset=preset,
                input_format=input_format,
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
        bool, typer.Option("--strict", help="Fail (exit 1) on warn targets too.")
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
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, markdown or github.")
    ] = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Evaluate a map's targets; exit 1 when an error target fails (a CI gate).

    Warn targets fail only with --strict. --format github prints ::error/::warning
    annotations at each target's line in the map.

    Example: cjkit check examples/shop/events.parquet --model examples/shop/map.yaml
    """
    with reported("Checking the targets…"):
        check_format(fmt, ("table", "json", "markdown", "github"))
        import os

        from cjkit import api
        from cjkit.render.metrics import check_annotations, check_markdown

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
            ),
        )
        report = api.check(events, options)
        warn(report.warnings)
        if fmt == "github":
            text = check_annotations(report)
            if output is not None:
                from cjkit.io.output import write_text

                write_text(output, text)
            else:
                sys.stdout.write(text)
        else:
            emit(report, fmt, output, no_color=no_color)
        if summary:
            target = os.environ.get("GITHUB_STEP_SUMMARY")
            if target:
                try:
                    with open(target, "a", encoding="utf-8") as handle:
                        handle.write(check_markdown(report))
                except OSError as exc:
                    from cjkit.errors import OutputError

                    raise OutputError(
                        f"--summary: can't append to $GITHUB_STEP_SUMMARY ({target}): "
                        f"{exc.strerror}"
                    ) from None
            else:
                warn(["--summary: $GITHUB_STEP_SUMMARY is not set; no summary written"])
    if not report.ok and not exit_zero:
        raise typer.Exit(1)
