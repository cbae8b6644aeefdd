"""``cjkit clv``: what customers will be worth (BG/NBD + Gamma-Gamma), P(alive), RFM segments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    ByOpt,
    EventCol,
    EventsArg,
    FormatOpt,
    InputFormatOpt,
    MaxDroppedOpt,
    NoColorOpt,
    OutputOpt,
    PresetOpt,
    TimeCol,
    TimeFormatOpt,
    TzOpt,
    UserCol,
    check_format,
    emit,
    read_options,
)


@app.command()
def clv(
    events: EventsArg,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="A map whose revenue stage names the purchases."),
    ] = None,
    purchase_event: Annotated[
        str | None,
        typer.Option("--purchase-event", help="The purchase event (name, a|b, name[prop=v])."),
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Property with the purchase's value.")
    ] = None,
    time_unit: Annotated[
        str, typer.Option("--time-unit", help="Unit of recency, T and the horizon: day|week|month.")
    ] = "week",
    observation_end: Annotated[
        str | None,
        typer.Option("--observation-end", help="Last day observed (default: last purchase day)."),
    ] = None,
    holdout: Annotated[
        str | None,
        typer.Option("--holdout", help="Check the fit on this last span, e.g. 26w or 90d."),
    ] = None,
    horizon: Annotated[
        str, typer.Option("--horizon", help="How far ahead to predict: 90d, 26w, 12mo, 1y.")
    ] = "12mo",
    discount: Annotated[
        float, typer.Option("--discount", help="Monthly discount rate for CLV.")
    ] = 0.01,
    margin: Annotated[
        float, typer.Option("--margin", help="Profit margin applied to CLV (1 = revenue).")
    ] = 1.0,
    include_first: Annotated[
        bool,
        typer.Option("--include-first", help="Average the first purchase into monetary value."),
    ] = False,
    top: Annotated[int, typer.Option("--top", help="How many top units by CLV to list.")] = 10,
    units: Annotated[
        Path | None, typer.Option("--units", help="Write one row per unit (CSV or Parquet).")
    ] = None,
    by: ByOpt = None,
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Predict customer value: repeat purchases (BG/NBD), order value (Gamma-Gamma), CLV, RFM.

    Frequency counts repeat purchase days, recency and T run from the first purchase, and the
    monetary value is the mean of the repeat purchases (lifetimes' conventions).

    Examples:
      cjkit clv examples/cdnow/events.parquet --model examples/cdnow/map.yaml --holdout 26w
      cjkit clv examples/cdnow/events.parquet --model examples/cdnow/map.yaml --horizon 52w
      --top 5 --format json
    """
    with reported("Fitting BG/NBD and Gamma-Gamma…"):
        check_format(fmt)
        from cjkit import api
        from cjkit.report.folding import top_for

        options = api.ClvOptions(
            read=read_options(
                user_col,
                event_col,
                time_col,
                tz,
                time_format,
                preset=preset,
                input_format=input_format,
                max_dropped=max_dropped,
            ),
            model=model,
            purchase_event=purchase_event,
            amount=amount,
            time_unit=time_unit,
            observation_end=observation_end,
            holdout=holdout,
            horizon=horizon,
            discount=discount,
            margin=margin,
            include_first=include_first,
            by=tuple(by or ()),
            top=top,
            fold=top_for(fmt, None),
        )
        run = api.clv(events, options)
        if units is not None:
            from cjkit.io.output import write_frame

            write_frame(units, run.units)
        warn(run.report.warnings)
        emit(run.report, fmt, output, no_color=no_color)
