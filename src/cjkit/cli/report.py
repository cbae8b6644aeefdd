"""``cjkit report``: one offline HTML file with every section of a model's report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from cjkit.cli.app import app, reported, warn
from cjkit.cli.options import (
    ByOpt,
    CompareOpt,
    EventCol,
    EventsArg,
    InputFormatOpt,
    MaxDroppedOpt,
    ModelReqOpt,
    OutputOpt,
    PresetOpt,
    ReportFormatOpt,
    SinceOpt,
    SpendOpt,
    StrictOpt,
    TimeCol,
    TimeFormatOpt,
    TzOpt,
    UntilOpt,
    UserCol,
    emit,
    read_options,
)
from cjkit.errors import UsageError


def _command_line(ctx: typer.Context) -> str:
    """Return the command as typed (``sys.argv`` of the cjkit script), or, when cjkit runs
    inside another program (tests, notebooks), the same command rebuilt from the parsed flags."""
    if Path(sys.argv[0]).name == "cjkit":
        return shlex.join(["cjkit", *sys.argv[1:]])
    parts = ["cjkit", ctx.info_name or "report"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name == "argument":
            parts.extend(str(v) for v in value or ())
            continue
        if value is None or value == param.default or value == ():
            continue
        flag = max(param.opts, key=len)
        if isinstance(value, bool):
            parts.append(flag if value else max(param.secondary_opts, key=len))
        elif isinstance(value, list | tuple):
            for v in value:
                parts.extend([flag, str(v)])
        else:
            parts.extend([flag, str(value)])
    return shlex.join(parts)


@app.command()
def report(
    ctx: typer.Context,
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
    fmt: ReportFormatOpt = "html",
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    max_dropped: MaxDroppedOpt = None,
    strict: StrictOpt = False,
    preset: PresetOpt = None,
    input_format: InputFormatOpt = None,
) -> None:
    """Write one self-contained HTML report with charts: every stage, segments, trends, time to
    convert, retention, lifecycle, stickiness, revenue, referral and NPS, and paths.

    It opens offline (plotly.js is embedded once; no network at view time). Needs the report
    extra: pip install 'cjkit[report]'.

    Examples:
      cjkit report examples/shop/events.parquet --model aarrr -o report.html
      cjkit report examples/shop/events.parquet --model examples/shop/map.yaml --lang vi
      -o bao-cao.html
    """
    with reported("Building the report…"):
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
            command=_command_line(ctx),
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
                max_dropped=max_dropped,
                strict=strict,
            ),
        )
        result = api.report(events, options)
        warn([*result.warnings, *(f"left out {o}" for o in result.omitted)])
        if fmt == "json":
            emit(result, fmt, output)
        else:
            from cjkit.render.html import write

            write(result, output)
