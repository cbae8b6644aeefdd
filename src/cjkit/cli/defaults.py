"""Turn the resolved settings (:mod:`cjkit.cli.settings`) into click's ``default_map``.

Each setting goes to every command that has the flag of that name, converted to the flag's
kind (a list for repeatable flags, a bool for switches, an int for counts). A setting that no
command has, or whose value no command accepts, is an error naming where it came from; a
``--format`` that is valid for some commands only (``CJKIT_FORMAT=csv``, which ``validate``
lacks) applies where it is valid.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cjkit.cli.settings import EXCLUDED, OWN_TABLE_ONLY, Setting, resolve, unknown_key
from cjkit.errors import UsageError

# Flags whose metavar lists every value they take (``a|b|c``): checked here, at the setting.
CHOICE_FLAGS = {"format", "time-format", "week-start", "cohort", "new-basis"}
_REJECT = object()


def commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield ``(path, command)`` for every leaf command under ``group``."""
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "commands", None) is not None:
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def _flags(group: Any) -> dict[str, list[tuple[tuple[str, ...], Any]]]:
    """Return ``{flag name: [(command path, param), …]}`` for the long options of every command."""
    flags: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for path, command in commands(group):
        for param in command.params:
            for opt in getattr(param, "opts", ()):
                if opt.startswith("--") and param.name not in ("help", "quiet", "verbose"):
                    flags.setdefault(opt[2:], []).append((path, param))
    return flags


def _convert(key: str, param: Any, value: Any) -> Any:
    """Return ``value`` as ``param`` takes it, or ``_REJECT``."""
    if param.multiple:
        items = value if isinstance(value, list) else [value]
        return (
            [str(v) for v in items]
            if all(isinstance(v, str | int | float) for v in items)
            else _REJECT
        )
    if getattr(param, "is_flag", False):
        return value if isinstance(value, bool) else _REJECT
    if isinstance(value, bool | list | dict):
        return _REJECT
    if param.type_descriptor.annotation is int:
        return value if isinstance(value, int) else _REJECT
    text = str(value)
    if key in CHOICE_FLAGS and param.metavar and text not in param.metavar.split("|"):
        return _REJECT
    return text


def _check(setting: Setting) -> None:
    """Raise UsageError for a value that is wrong whatever the command (a time zone)."""
    if setting.key == "tz" and isinstance(setting.value, str):
        try:
            zoneinfo.ZoneInfo(setting.value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                f"{setting.source}: tz: unknown time zone {setting.value!r} "
                "(expected an IANA name such as Europe/Berlin)"
            ) from None


def _expected(key: str, targets: list[tuple[tuple[str, ...], Any]]) -> str:
    metavars = sorted({p.metavar for _, p in targets if p.metavar and "|" in p.metavar})
    if key in CHOICE_FLAGS and metavars:
        names = dict.fromkeys(n for m in metavars for n in m.split("|"))
        return "one of " + ", ".join(names)
    param = targets[0][1]
    if param.multiple:
        return "a string or a list of strings"
    if getattr(param, "is_flag", False):
        return "true or false"
    return "a whole number" if param.type_descriptor.annotation is int else "a string"


def default_map(group: Any, settings: list[Setting]) -> dict[str, Any]:
    """Return click's nested ``default_map`` for ``settings``; raise UsageError on a bad one."""
    flags = _flags(group)
    result: dict[str, Any] = {}
    for setting in settings:
        targets = flags.get(setting.key)
        if not targets:
            raise UsageError(f"{setting.source}: {unknown_key(setting.key, flags)}")
        _check(setting)
        placed = False
        for path, param in targets:
            if setting.command and path[0] != setting.command:
                continue
            if (path[0], setting.key) in EXCLUDED:
                continue
            if not setting.command and (path[0], setting.key) in OWN_TABLE_ONLY:
                continue
            value = _convert(setting.key, param, setting.value)
            if value is _REJECT:
                continue
            node = result
            for part in path:
                node = node.setdefault(part, {})
            node[param.name] = value
            placed = True
        if not placed:
            scope = f" for {setting.command}" if setting.command else ""
            raise UsageError(
                f"{setting.source}: {setting.key}{scope}: expected {_expected(setting.key, targets)}, "
                f"got {setting.value!r}"
            )
    return result


def apply(ctx: Any, *, config: Path | None, isolated: bool) -> list[str]:
    """Set ``ctx.default_map`` from the settings; return them as lines for ``-v``."""
    top = [path[0] for path, _ in commands(ctx.command)]
    settings = resolve(config=config, isolated=isolated, commands=top)
    ctx.default_map = default_map(ctx.command, settings)
    return [
        f"{s.key} = {s.value!r} ({'[' + s.command + '] in ' if s.command else ''}{s.source})"
        for s in settings
    ]
