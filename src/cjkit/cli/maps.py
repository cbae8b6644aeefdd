"""Commands about journey maps: ``validate``, ``init``, ``schema`` and ``models list|show``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cjkit.cli.app import app, err, reported
from cjkit.cli.options import (
    EventCol,
    FormatOpt,
    MaxDroppedOpt,
    ModelFormatOpt,
    OutputOpt,
    TimeCol,
    TzOpt,
    UserCol,
    ValidateFormatOpt,
    emit,
    read_options,
)

models_app = typer.Typer(help="List and show the built-in stage models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command()
def validate(
    maps: Annotated[
        list[str], typer.Argument(help="Map files (or built-in model names).", show_default=False)
    ],
    data: Annotated[
        list[str] | None, typer.Option("--data", help="Also check against these events.")
    ] = None,
    fmt: ValidateFormatOpt = "table",
    user_col: UserCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    tz: TzOpt = None,
    max_dropped: MaxDroppedOpt = None,
) -> None:
    """Check journey maps: schema, semantics and (with --data) the columns and events.

    Exit 0 when valid, 1 when problems are found, 2 when a file can't be read.

    Examples:
      cjkit validate examples/shop/map.yaml
      cjkit validate examples/shop/map.yaml --data examples/shop/events.parquet
      cjkit validate aarrr examples/shop/map.yaml --format json
    """
    with reported():
        from cjkit import api

        report = api.validate(
            maps,
            data or (),
            read_options(user_col, event_col, time_col, tz, max_dropped=max_dropped),
        )
        emit(report, fmt, None)
        if not report.ok:
            raise typer.Exit(1)


@models_app.command("list")
def models_list(fmt: FormatOpt = "table") -> None:
    """List the built-in models: id, name and the stage chain.

    Examples:
      cjkit models list
      cjkit models list --format json
    """
    with reported():
        from cjkit import api

        emit(api.models_list(), fmt, None)


@models_app.command("show")
def models_show(
    name: Annotated[
        str, typer.Argument(help="A built-in model id or a map file.", show_default=False)
    ],
    fmt: ModelFormatOpt = "table",
) -> None:
    """Show a model's stages with their descriptions, questions, touchpoints and metrics.

    Examples:
      cjkit models show aarrr
      cjkit models show examples/shop/map.yaml --format yaml
    """
    with reported():
        from cjkit import api

        emit(api.model_show(name), fmt, None)


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
    """Write a commented starter journey map that extends a built-in model.

    Examples:
      cjkit init --model aida -o my-map.yaml
      cjkit init --model 5a -o journey.yaml --force
    """
    with reported():
        from cjkit.errors import OutputError
        from cjkit.io.output import write_text
        from cjkit.maps.starter import starter_map

        if output.exists() and not force:
            raise OutputError(f"{output}: already exists (use --force to overwrite)")
        write_text(output, starter_map(model))
        err(f"Wrote {output}. Check it with: cjkit validate {output}")


@app.command()
def schema(
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND",
            help="map (journey maps), or an output: funnel, metrics, check, retention, …",
        ),
    ] = "map",
    output: OutputOpt = None,
) -> None:
    """Print a JSON Schema: of journey maps (editor autocompletion) or of an output's JSON.

    Examples:
      cjkit schema -o map.schema.json
      cjkit schema metrics
    """
    with reported():
        import json

        from cjkit.io.output import write_text
        from cjkit.maps.schema import json_schema
        from cjkit.report import schemas

        document = json_schema() if kind == "map" else schemas.load(kind)
        text = json.dumps(document, indent=2) + "\n"
        if output:
            write_text(output, text)
        else:
            sys.stdout.write(text)
