"""Help for people, applied to every command when typer builds the click group.

:class:`Group` walks the commands once and gives each one real metavars (``EVENTS...``,
``DURATION``, ``ordered|strict|any``) instead of typer's ``<str>``, the effective default of
options whose default comes from the map, a complete one-line summary for ``cjkit --help``,
its ``Examples:`` block laid out one per line, and the root's ``-q``/``-v`` so they work after
the subcommand too. Commands write examples in their docstring::

    Examples:
      cjkit funnel examples/shop/events.parquet -s visit -s purchase
      cjkit funnel examples/shop/events.parquet --model aarrr --by channel

and ``tests/test_cli_help.py`` runs every one of them against the shipped examples.
"""

from __future__ import annotations

import copy
from typing import Any

from typer.core import TyperGroup

# Metavars by long flag; options not listed get one from their type (N, NUMBER, FILE) or name.
METAVARS = {
    "--step": "EVENT",
    "--model": "MODEL",
    "--window": "DURATION",
    "--order": "ordered|strict|any",
    "--window-anchor": "latest|first",
    "--exclude": "EVENT[:A-B]",
    "--aggregate-by": "PROPERTY",
    "--since": "DATE|TIME",
    "--until": "DATE|TIME",
    "--by": "PROPERTY",
    "--attribution": "first|last|step:N",
    "--units": "FILE",
    "--output": "FILE",
    "--user-col": "COLUMN",
    "--event-col": "COLUMN",
    "--time-col": "COLUMN",
    "--tz": "ZONE",
    "--time-format": "auto|iso|date|epoch_s|epoch_ms|epoch_us|epoch_ns",
    "--start-event": "EVENT",
    "--return-event": "EVENT",
    "--event": "EVENT",
    "--period": "PERIOD",
    "--cohort": "recurring|first-time",
    "--week-start": "monday|sunday",
    "--new-basis": "event|first-any-event",
    "--spend": "FILE",
    "--baseline": "FILE",
    "--data": "EVENTS",
    "--preset": "VENDOR",
    "--input-format": "csv|tsv|ndjson|parquet",
    "--config": "FILE",
    "--memory-limit": "SIZE",
    "--compare": "previous|A..B",
    "--trend": "day|week|month",
    "--holdout": "DURATION",
    "--horizon": "DURATION",
    "--start": "EVENT",
    "--end": "EVENT",
    "--session": "DURATION",
    "--include": "EVENT",
    "--clean": "REGEX=>ALIAS",
    "--node": "EVENT=PROP",
    "--diff-by": "COL=VALUE|converters",
    "--lang": "en|vi",
}
ARGUMENTS = {"events": "EVENTS...", "maps": "MAPS...", "name": "MODEL"}
# Defaults that the map or the data decide, for options whose typer default is None.
DEFAULTS = {
    "--order": "ordered (or the map's)",
    "--window-anchor": "latest (or the map's)",
    "--window": "14d (or the map's)",
    "--allow-event-reuse": "no (or the map's)",
    "--strict-increase": "no (or the map's)",
    "--time-format": "auto (or the map's)",
}
EPILOG = (
    "Run 'cjkit COMMAND -h' for a command's flags and examples. Settings can come from "
    "cjkit.toml, [tool.cjkit] in pyproject.toml or CJKIT_* variables ('cjkit config show'). "
    "Docs: docs/cli.md (this reference), docs/configuration.md, docs/metrics.md and "
    "docs/python-api.md in the cjkit sources."
)


def _long(param: Any) -> str:
    longs = [str(o) for o in param.opts if o.startswith("--")]
    return longs[0] if longs else str(param.opts[0])


def _metavar(param: Any) -> str | None:
    """Return a metavar for ``param``, or None for flags (they take no value)."""
    if param.param_type_name == "argument":
        name = str(param.name)
        return ARGUMENTS.get(name, name.upper() + ("..." if param.nargs != 1 else ""))
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    flag = _long(param)
    if flag in METAVARS:
        return METAVARS[flag]
    annotation = param.type_descriptor.annotation
    if annotation is int:
        return "N"
    if annotation is float:
        return "NUMBER"
    if getattr(annotation, "__name__", "") == "Path":
        return "FILE"
    return flag.lstrip("-").rsplit("-", 1)[-1].upper()


def _summary(text: str) -> str:
    """Return the first paragraph of a help text as one line."""
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def examples(help_text: str | None) -> list[str]:
    """Return the ``cjkit …`` lines of a help text's ``Example:``/``Examples:`` block."""
    lines: list[str] = []
    inside = False
    for raw in (help_text or "").splitlines():
        line = raw.strip()
        if line.startswith(("Example:", "Examples:")):
            inside = True
            line = line.split(":", 1)[1].strip()
        if inside and line.startswith("cjkit "):
            lines.append(line)
        elif inside and lines and line.startswith("-"):
            lines[-1] += " " + line  # an example wrapped onto the next line
        elif inside and line and line != "\b":
            inside = False
    return lines


def _with_examples(help_text: str) -> str:
    """Return ``help_text`` with its examples gathered at the end, one per paragraph."""
    found = examples(help_text)
    if not found:
        return help_text
    kept: list[str] = []
    inside = False
    for raw in help_text.splitlines():
        line = raw.strip()
        if line.startswith(("Example:", "Examples:")):
            inside = True
            continue
        if inside and (line.startswith(("cjkit ", "-")) or not line or line == "\b"):
            continue
        inside = False
        kept.append(raw)
    body = "\n".join(kept).rstrip()
    # One paragraph per example: click never joins them, and the generated docs/cli.md gets
    # no control characters (click's no-rewrap marker is a backspace).
    block = "\n\n".join(f"  {line}" for line in found)
    return f"{body}\n\nExamples:\n\n{block}"


def polish(command: Any, shared: list[Any]) -> None:
    """Give ``command`` (and its subcommands) metavars, defaults, summaries, examples, -q/-v."""
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for sub in subcommands.values():
            polish(sub, shared)
        if command.help:
            command.short_help = command.short_help or _summary(command.help)
        return
    have = {o for p in command.params for o in getattr(p, "opts", ())}
    for param in command.params:
        if param.metavar is None:
            param.metavar = _metavar(param)
        if param.param_type_name == "argument":
            # typer would print the type after the name (``EVENTS... <list[str]>``) and wrap
            # the usage in braces; people read ``EVENTS...`` in both places.
            usage = param.metavar
            param.display_type_rich = lambda ctx: None
            param.get_usage_pieces = lambda ctx, usage=usage: [usage]
        note = DEFAULTS.get(_long(param)) if param.param_type_name == "option" else None
        if note and param.help and "[default" not in param.help:
            param.help = f"{param.help}  [default: {note}]"
    command.params[-1:-1] = [
        copy.copy(p) for p in shared if not set(p.opts) & have
    ]  # before --help, so the root's -q/-v are accepted after the subcommand too
    if command.help:
        command.help = _with_examples(command.help)
        command.short_help = command.short_help or _summary(command.help)


class Group(TyperGroup):
    """The root group: polishes every command's help once, when typer builds it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shared = [p for p in self.params if {"-q", "-v"} & set(getattr(p, "opts", ()))]
        for p in shared:
            p.expose_value = False  # the copies only set the run's state; see app._root
        for command in self.commands.values():
            polish(command, shared)
        for p in shared:
            p.expose_value = True
        self.epilog = EPILOG
