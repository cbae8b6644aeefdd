"""The typer app: each command parses its flags, calls one ``cjkit.api`` function, renders.

Heavy modules (polars, rich, the engine) are imported inside the commands, so ``cjkit --help``
and ``cjkit --version`` stay fast in shell scripts that call cjkit often.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cjkit import __version__
from cjkit.errors import CjkitError, MapInvalid, UsageError

app = typer.Typer(
    name="cjkit",
    help="Customer-journey funnel analytics from event logs (AARRR, AIDA, 5A, your own maps).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
models_app = typer.Typer(help="List and show the built-in stage models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

_STATE = {"debug": False, "quiet": False}

_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cjkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print no warnings.")] = False,
) -> None:
    """Customer-journey funnel analytics from event logs."""
    del version
    _STATE["debug"] = debug
    _STATE["quiet"] = quiet


def _err(text: str) -> None:
    sys.stderr.write(text.replace("\n", " ") + "\n")


def warn(messages: Sequence[str]) -> None:
    """Print warnings to stderr unless ``--quiet``."""
    if not _STATE["quiet"]:
        for message in messages:
            _err(f"Warning: {message}")


@contextmanager
def reported(progress: str | None = None) -> Iterator[None]:
    """The one error boundary: user errors print one line and exit with their code.

    With ``progress``, a spinner shows on stderr for long runs (only on a TTY, never with -q).
    """
    try:
        if progress and not _STATE["quiet"]:
            from cjkit.render.console import busy

            with busy(progress):
                yield
        else:
            yield
    except MapInvalid as exc:
        for problem in exc.problems:
            _err(f"Error: {problem}")
        raise typer.Exit(exc.exit_code) from None
    except CjkitError as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        _err(f"Error: {exc}{hint}")
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, _CLICK_ERROR):
        raise
    except KeyboardInterrupt:
        _err("Interrupted.")
        raise typer.Exit(130) from None
    except Exception as exc:
        if _STATE["debug"]:
            traceback.print_exc()
        _err(
            f"Internal error: {type(exc).__name__}: {exc} — this is a bug in cjkit; please "
            "report it with the command you ran (rerun with --debug for the traceback)"
        )
        raise typer.Exit(3) from None


# --- shared option types -------------------------------------------------------------------

EventsArg = Annotated[
    list[str], typer.Argument(help="Event files, globs or folders.", show_default=False)
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or markdown.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
]
UserCol = Annotated[str | None, typer.Option("--user-col", help="Unit column [default: user_id].")]
EventCol = Annotated[str | None, typer.Option("--event-col", help="Event column [default: event].")]
TimeCol = Annotated[
    str | None, typer.Option("--time-col", help="Time column [default: timestamp].")
]
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="Zone of naive times and periods [default: UTC].")
]
TimeFormatOpt = Annotated[
    str | None, typer.Option("--time-format", help="auto, iso, date, epoch_s or epoch_ms.")
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="First date or time (inclusive).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Last date (whole day) or time.")]
ByOpt = Annotated[
    list[str] | None, typer.Option("--by", help="Break down by a property (repeatable).")
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="Plain text, no colours.")]


def _read(
    user: str | None, event: str | None, time: str | None, tz: str | None, fmt: str | None
) -> Any:
    from cjkit.api.core import ReadOptions

    return ReadOptions(user_col=user, event_col=event, time_col=time, tz=tz, time_format=fmt)


def _emit(
    report: Any, fmt: str, output: Path | None, *, explain: bool = False, no_color: bool = False
) -> None:
    from cjkit import render

    render.emit(report, fmt, output, explain=explain, no_color=no_color)


def _check_format(fmt: str, allowed: Sequence[str] = ("table", "json", "csv", "markdown")) -> None:
    if fmt not in allowed:
        raise UsageError(f"--format: expected one of {', '.join(allowed)}, got {fmt!r}")


# --- commands ------------------------------------------------------------------------------


@app.command()
def validate(
    maps: Annotated[
        list[str], typer.Argument(help="Map files (or built-in model names).", show_default=False)
    ],
    data: Annotated[
        list[str] | None, typer.Option("--data", help="Also check against these events.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or github.")] = "table",
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
) -> None:
    """Check journey maps: schema, semantics and (with --data) the columns and events.

    Exit 0 when valid, 1 when problems are found, 2 when a file can't be read.

    Example: cjkit validate examples/shop/map.yaml --data examples/shop/events.parquet
    """
    with reported():
        _check_format(fmt, ("table", "json", "github"))
        from cjkit import api

        report = api.validate(maps, data or (), _read(user_col, event_col, time_col, tz, None))
        if fmt == "github":
            from cjkit.render.github import validate_annotations

            sys.stdout.write(validate_annotations(report))
        elif fmt == "json":
            _emit(report, "json", None)
        else:
            _emit(report, "table", None)
        if not report.ok:
            raise typer.Exit(1)


@models_app.command("list")
def models_list(fmt: FormatOpt = "table") -> None:
    """List the built-in models: id, name and the stage chain."""
    with reported():
        _check_format(fmt)
        from cjkit import api

        _emit(api.models_list(), fmt, None)


@models_app.command("show")
def models_show(
    name: Annotated[
        str, typer.Argument(help="A built-in model id or a map file.", show_default=False)
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, yaml or json.")] = "table",
) -> None:
    """Show a model's stages with their descriptions, questions, touchpoints and metrics."""
    with reported():
        _check_format(fmt, ("table", "yaml", "json", "markdown", "csv"))
        from cjkit import api

        report = api.model_show(name)
        if fmt == "yaml":
            import yaml

            model = dict(report.model)
            for stage in model["stages"]:
                stage.pop("event_names", None)
                stage.pop("metrics", None)
            sys.stdout.write(yaml.safe_dump(model, sort_keys=False, allow_unicode=True))
        else:
            _emit(report, fmt, None)


@app.command()
def init(
    model: Annotated[
        str, typer.Option("--model", "-m", help="The built-in model to extend.")
    ] = "aarrr",
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the map.")] = Path(
        "map.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter journey map that extends a built-in model."""
    with reported():
        from cjkit.errors import OutputError
        from cjkit.io.output import write_text
        from cjkit.maps.starter import starter_map

        if output.exists() and not force:
            raise OutputError(f"{output}: already exists (use --force to overwrite)")
        write_text(output, starter_map(model))
        _err(f"Wrote {output}. Check it with: cjkit validate {output}")


@app.command()
def schema(output: OutputOpt = None) -> None:
    """Print the JSON Schema of journey maps (for editor autocompletion)."""
    with reported():
        import json

        from cjkit.io.output import write_text
        from cjkit.maps.schema import json_schema

        text = json.dumps(json_schema(), indent=2) + "\n"
        if output:
            write_text(output, text)
        else:
            sys.stdout.write(text)


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
    no_color: NoColorOpt = False,
) -> None:
    """Profile event data: rows, units, time span, events and columns.

    Example: cjkit inspect examples/shop/events.parquet
    """
    with reported("Profiling events…"):
        _check_format(fmt)
        from cjkit import api

        report = api.inspect(events, _read(user_col, event_col, time_col, tz, time_format))
        _emit(report, fmt, output, no_color=no_color)


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
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Count how many units reach each step, how fast, and where they drop off.

    Example: cjkit funnel events.parquet -s visit -s signup -s purchase --window 7d
    """
    with reported("Computing the funnel…"):
        _check_format(fmt)
        from cjkit import api

        options = api.FunnelOptions(
            steps=tuple(step or ()),
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
            read=_read(user_col, event_col, time_col, tz, time_format),
        )
        run = api.funnel(events, options)
        warn(run.warnings)
        if units is not None:
            from cjkit.io.output import write_frame

            write_frame(units, run.units)
        _emit(run.report, fmt, output, no_color=no_color)


WeekStartOpt = Annotated[str, typer.Option("--week-start", help="monday or sunday.")]


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
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Cohort retention: who comes back in each later period, churn and usage per period.

    Column 0 is the cohort size; the average row pools the cohorts whose period is complete.

    Example: cjkit retention events.parquet --start-event signup --return-event purchase --period month
    """
    with reported("Computing retention…"):
        _check_format(fmt)
        from cjkit import api as api_cohorts

        options = api_cohorts.RetentionOptions(
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
            read=_read(user_col, event_col, time_col, tz, time_format),
        )
        report = api_cohorts.retention(events, options)
        warn(report.warnings)
        _emit(report, fmt, output, no_color=no_color)


ActivityEventOpt = Annotated[
    str, typer.Option("--event", "-e", help="Event that makes a unit active (* = any).")
]
ActivityPeriodOpt = Annotated[str, typer.Option("--period", help="day, week or month.")]


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
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Units per period as new, returning, resurrecting and dormant (negative).

    Example: cjkit lifecycle events.parquet --event purchase --period month
    """
    with reported("Computing the lifecycle…"):
        options = {
            "event": event,
            "period": period,
            "week_start": week_start,
            "since": since,
            "until": until,
        }
        read = _read(user_col, event_col, time_col, tz, time_format)
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
    fmt: FormatOpt = "table",
    output: OutputOpt = None,
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    time_format: TimeFormatOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Units active in exactly n periods of the range, and the average number of active periods.

    Example: cjkit stickiness events.parquet --period day --since 2025-03-01 --until 2025-03-31
    """
    with reported("Computing stickiness…"):
        options = {
            "event": event,
            "period": period,
            "week_start": week_start,
            "since": since,
            "until": until,
        }
        read = _read(user_col, event_col, time_col, tz, time_format)
        _activity("stickiness", events, options, read, fmt, output, no_color)


ModelReqOpt = Annotated[
    str, typer.Option("--model", "-m", help="A built-in model or a map file.", show_default=False)
]
SpendOpt = Annotated[
    str | None,
    typer.Option("--spend", help="Spend file (CSV or Parquet: date, channel, amount) for CAC."),
]


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
    no_color: NoColorOpt = False,
) -> None:
    """Walk a model stage by stage: funnel numbers and each stage's own metrics.

    Acquisition (new units, CAC), activation, retention and churn, referral (k-factor),
    revenue (ARPU, AOV, LTV) and satisfaction (NPS). Without --by, a map's segments are the
    breakdowns.

    Example: cjkit metrics examples/shop/events.parquet --model aarrr
    """
    with reported("Computing the metrics…"):
        _check_format(fmt)
        from cjkit import api as api_metrics

        options = api_metrics.MetricsOptions(
            model=model,
            by=tuple(by or ()),
            since=since,
            until=until,
            period=period,
            spend=spend,
            read=_read(user_col, event_col, time_col, tz, time_format),
        )
        report = api_metrics.metrics(events, options)
        warn(report.warnings)
        _emit(report, fmt, output, explain=explain, no_color=no_color)


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
    no_color: NoColorOpt = False,
) -> None:
    """Evaluate a map's targets; exit 1 when an error target fails (a CI gate).

    Warn targets fail only with --strict. --format github prints ::error/::warning
    annotations at each target's line in the map.

    Example: cjkit check examples/shop/events.parquet --model examples/shop/map.yaml
    """
    with reported("Checking the targets…"):
        _check_format(fmt, ("table", "json", "markdown", "github"))
        import os

        from cjkit import api as api_metrics
        from cjkit.render.metrics import check_annotations, check_markdown

        options = api_metrics.CheckOptions(
            model=model,
            baseline=baseline,
            since=since,
            until=until,
            spend=spend,
            strict=strict,
            read=_read(user_col, event_col, time_col, tz, time_format),
        )
        report = api_metrics.check(events, options)
        warn(report.warnings)
        if fmt == "github":
            text = check_annotations(report)
            if output is not None:
                from cjkit.io.output import write_text

                write_text(output, text)
            else:
                sys.stdout.write(text)
        else:
            _emit(report, fmt, output, no_color=no_color)
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
    _check_format(fmt)
    from cjkit import api as api_cohorts

    run = api_cohorts.lifecycle if which == "lifecycle" else api_cohorts.stickiness
    report = run(events, api_cohorts.ActivityOptions(**options, read=read))
    warn(report.warnings)
    _emit(report, fmt, output, no_color=no_color)


# --- end of commands (add new commands above this line) -----------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code. Usage errors print one line and return 2."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name="cjkit", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _err("Aborted.")
        return 130
    except _CLICK_ERROR as exc:
        message = exc.format_message()  # type: ignore[attr-defined]
        _err(f"Error: {message} (see 'cjkit {_subcommand(args)}--help')")
        return int(getattr(exc, "exit_code", 2))
    return int(result) if isinstance(result, int) else 0


def _subcommand(args: list[str]) -> str:
    names = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    first = next((a for a in args if not a.startswith("-")), None)
    return f"{first} " if first in names else ""


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
