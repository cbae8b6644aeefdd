"""``cjkit report``: one offline HTML file with every section of a model's report."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    ByOpt,
    CompareOpt,
    EventCol,
    EventsArg,
    InputFormatOpt,
    ModelReqOpt,
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
from cjkit.errors import UsageError


@app.command()
def report(
    events: EventsArg,
    model: ModelReqOpt,
    output: OutputOpt = None,
    by: ByOpt = None,
    compare: CompareOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    spend: SpendOpt = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the report: en or vi (stage labels too).")
    ] = "en",
    findings: Annotated[
        bool, typer.Option("--findings/--no-findings", help="Diagnose findings at the top.")
    ] = True,
    paths: Annotated[
        bool, typer.Option("--paths/--no-paths", help="Paths between events as a Sankey.")
    ] = True,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="html, or json for the same numbers.")
    ] = "html",
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
) -> None:
    """Write one self-contained HTML report with charts: every stage, segments, trends, time to
    convert, retention, lifecycle, stickiness, revenue, referral and NPS, and paths.

    It opens offline (plotly.js is embedded once; no network at view time). Needs the report
    extra: pip install 'cjkit[report]'.

    Example: cjkit report examples/shop/events.parquet --model aarrr -o report.html
    """
    with reported("Building the report…"):
        check_format(fmt, ("html", "json"))
        from cjkit import api
        from cjkit.render.html import i18n, require

        if fmt == "html":
            require()
        if lang not in i18n.languages():
            raise UsageError(f"--lang: expected one of {', '.join(i18n.languages())}, got {lang!r}")
        options = api.ReportOptions(
            model=model,
            by=tuple(by or ()),
            since=since,
            until=until,
            spend=spend,
            compare=compare,
            lang=lang,
            command=shlex.join(["cjkit", *sys.argv[1:]]),
            diagnose=findings,
            paths=paths,
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
        result = api.report(events, options)
        warn(result.warnings)
        if fmt == "json":
            emit(result, fmt, output)
        else:
            from cjkit.render.html import write

            write(result, output)
