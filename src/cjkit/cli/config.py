"""``cjkit config show``: the settings in force, and where each one comes from."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cjkit.cli.app import app, reported
from cjkit.cli.options import ValidateFormat

config_app = typer.Typer(
    help="Show the settings that config files and CJKIT_* variables give the flags.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    ctx: typer.Context,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", metavar="table|json", help="Output format."),
    ] = "table",
) -> None:
    """Print each setting, the command it applies to (all when blank) and its source.

    Later lines win over earlier ones; a flag on the command line wins over all of them.

    Examples:
      cjkit config show
      cjkit --isolated config show --format json
    """
    with reported():
        from cjkit.cli.defaults import commands
        from cjkit.cli.settings import resolve
        from cjkit.errors import UsageError

        if fmt not in (ValidateFormat.table, ValidateFormat.json):
            raise UsageError(f"--format: expected one of table, json, got {fmt!r}")
        root = ctx.find_root()
        top = [path[0] for path, _ in commands(root.command)]
        settings = resolve(
            config=root.params.get("config"),
            isolated=bool(root.params.get("isolated")),
            commands=top,
        )
        rows = [
            {"key": s.key, "value": s.value, "command": s.command, "source": s.source}
            for s in settings
        ]
        if fmt == "json":
            typer.echo(json.dumps({"settings": rows}, indent=2, ensure_ascii=False, default=str))
            return
        if not rows:
            typer.echo("No settings: no config file found and no CJKIT_* variable set.")
            return
        width = max(len(r["key"]) for r in rows)
        for r in rows:
            scope = f"  [{r['command']}]" if r["command"] else ""
            typer.echo(f"{r['key']:<{width}}  {r['value']!r}{scope}  ({r['source']})")
