"""``cjkit inspect``: profile event data."""

from __future__ import annotations

from cjkit.cli.app import app, reported
from cjkit.cli.options import (
    EventCol,
    EventsArg,
    FormatOpt,
    InputFormatOpt,
    MaxDroppedOpt,
    ModelColumnsOpt,
    NoColorOpt,
    OutputOpt,
    PresetOpt,
    QueryOpt,
    TableOpt,
    TimeCol,
    TimeFormatOpt,
    TzOpt,
    UserCol,
    check_format,
    emit,
    read_options,
)


@app.command()
def inspect(
    events: EventsArg,
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
    table: TableOpt = None,
    query: QueryOpt = None,
    model: ModelColumnsOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Profile event data: rows, units, time span, events and columns.

    Examples:
      cjkit inspect examples/shop/events.parquet
      cjkit inspect examples/cdnow/events.parquet --format json
    """
    with reported("Profiling events…"):
        check_format(fmt)
        from cjkit import api

        report = api.inspect(
            events,
            read_options(
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
            ),
        )
        emit(report, fmt, output, no_color=no_color)
