"""``cjkit paths``: what units do between, before and after events or funnel steps."""

from __future__ import annotations

from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    ChartFormat,
    ChartFormatOpt,
    EventCol,
    EventsArg,
    InputFormatOpt,
    MaxDroppedOpt,
    NoColorOpt,
    OutputOpt,
    PresetOpt,
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
from cjkit.errors import UsageError


def _mode(after: bool, before: bool, between: bool) -> str:
    chosen = [
        name for name, on in (("after", after), ("before", before), ("between", between)) if on
    ]
    if len(chosen) > 1:
        raise UsageError(
            f"--{chosen[0]} and --{chosen[1]}: choose one of --after, --before, --between"
        )
    return chosen[0] if chosen else "after"


@app.command()
def paths(
    events: EventsArg,
    start: Annotated[
        str | None, typer.Option("--start", help="Paths from the first occurrence of this node.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Paths up to the first occurrence of this node.")
    ] = None,
    steps: Annotated[int, typer.Option("--steps", help="Nodes kept per path.")] = 5,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Cut paths after this much inactivity (PostHog: 30m)."),
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only these events (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", metavar="EVENT", help="Leave out these events (repeatable)."),
    ] = None,
    event_types: Annotated[
        list[str] | None,
        typer.Option("--event-types", help="pageview ($pageview), screen ($screen), custom."),
    ] = None,
    clean: Annotated[
        list[str] | None,
        typer.Option("--clean", help="'REGEX=>ALIAS': rename matching nodes (repeatable)."),
    ] = None,
    node: Annotated[
        list[str] | None,
        typer.Option(
            "--node", help="EVENT=PROP: name EVENT's nodes by PROP, e.g. $pageview=$current_url."
        ),
    ] = None,
    min_units: Annotated[int, typer.Option("--min-units", help="Drop edges with fewer units.")] = 1,
    top: Annotated[int, typer.Option("--top", help="Keep the heaviest edges and top paths.")] = 50,
    funnel_step: Annotated[
        int | None,
        typer.Option("--funnel-step", help="K: units that reached step K; -K: dropped at step K."),
    ] = None,
    after: Annotated[bool, typer.Option("--after", help="Funnel paths after the step.")] = False,
    before: Annotated[bool, typer.Option("--before", help="Funnel paths before the step.")] = False,
    between: Annotated[
        bool, typer.Option("--between", help="Funnel paths between step K-1 and K.")
    ] = False,
    step: Annotated[
        list[str] | None, typer.Option("--step", "-s", help="A funnel step (repeat).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="A built-in model or map file.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", "-w", help="Funnel window [default: 14d].")
    ] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="Funnel order: ordered, strict or any.")
    ] = None,
    matrix: Annotated[bool, typer.Option("--matrix", help="Add the step matrix.")] = False,
    diff_by: Annotated[
        str | None,
        typer.Option("--diff-by", help="COL=VALUE or converters: differential step matrix."),
    ] = None,
    transitions: Annotated[
        bool, typer.Option("--transitions", help="Add event → next-event transitions.")
    ] = False,
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
    explain: Annotated[bool, typer.Option("--explain", help="Say how paths are counted.")] = False,
    no_color: NoColorOpt = False,
) -> None:
    """Show what units do between, before and after events or funnel steps (PostHog Paths).

    Examples:
      cjkit paths examples/shop/events.parquet --start visit --steps 4
      cjkit paths examples/shop/events.parquet --funnel-step -3 --after -s visit -s signup
      -s purchase
    """
    with reported("Computing paths…"):
        check_format(fmt, tuple(ChartFormat))
        from cjkit import api

        funnel = api.FunnelOptions(
            steps=tuple(step or ()),
            model=model,
            window=window,
            order=order,
            since=since,
            until=until,
            read=read_options(
                user_col,
                event_col,
                time_col,
                tz,
                time_format,
                preset=preset,
                input_format=input_format,
                max_dropped=max_dropped,
                strict=strict,
            ),
        )
        options = api.PathsOptions(
            start=start,
            end=end,
            steps=steps,
            session=session,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            event_types=tuple(event_types or ()),
            clean=tuple(clean or ()),
            nodes=tuple(node or ()),
            min_units=min_units,
            top=top,
            funnel_step=funnel_step,
            funnel_mode=_mode(after, before, between),
            matrix=matrix,
            diff_by=diff_by,
            transitions=transitions,
            funnel=funnel,
        )
        report = api.paths(events, options)
        warn(report.warnings)
        emit(report, fmt, output, explain=explain, no_color=no_color)
