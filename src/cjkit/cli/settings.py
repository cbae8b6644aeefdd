"""Project settings: config files and ``CJKIT_*`` variables as defaults for the flags.

Found upward from the working folder, the first of ``cjkit.toml``, ``.cjkit.yaml`` and a
``pyproject.toml`` with a ``[tool.cjkit]`` table (ruff's and sqlfluff's convention); ``--config
FILE`` names one, ``--isolated`` ignores them all (and the variables). Keys are the long flags'
names without the dashes (``model``, ``format``, ``tz``, ``user-col``; ``user_col`` works too);
a table named after a command (``[tool.cjkit.funnel]``) holds that command's own defaults.

Precedence, highest first: the flag on the command line, the ``CJKIT_*`` variable, the
command's table, the file's top level, the built-in default. Click applies the result as the
commands' ``default_map``, so ``cjkit metrics events.parquet`` runs the team's map when the
file says ``model = "journey.yaml"``. Relative paths in a file are relative to that file.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cjkit.errors import UsageError

FILES = ("cjkit.toml", ".cjkit.yaml", "pyproject.toml")
# The variables and the flag each one sets (documented in docs/configuration.md).
VARIABLES = {
    "CJKIT_FORMAT": "format",
    "CJKIT_TZ": "tz",
    "CJKIT_MODEL": "model",
    "CJKIT_USER_COL": "user-col",
    "CJKIT_EVENT_COL": "event-col",
    "CJKIT_TIME_COL": "time-col",
    "CJKIT_TIME_FORMAT": "time-format",
}
# Keys whose values name files: resolved against the config file's folder.
PATH_KEYS = {"model", "spend", "baseline", "data"}
# (command, key) pairs a setting never reaches: `init --model` picks the built-in to extend.
EXCLUDED = {("init", "model"), ("init", "output")}
# (command, key) pairs only the command's own table reaches: `check --strict` fails on warn
# targets, while the top-level `strict` (`funnel --strict`…) makes unknown event names errors.
OWN_TABLE_ONLY = {("check", "strict")}


@dataclass(frozen=True)
class Setting:
    """One resolved default: the flag's name, its value, where it came from, its command."""

    key: str
    value: Any
    source: str
    command: str | None = None


def normalise(key: str) -> str:
    """Return a flag name as written in files (``user_col`` -> ``user-col``)."""
    return key.strip().lstrip("-").replace("_", "-")


def discover(start: Path) -> Path | None:
    """Return the nearest config file at or above ``start``, or None."""
    for folder in (start, *start.parents):
        for name in FILES:
            path = folder / name
            if path.is_file() and (name != "pyproject.toml" or _has_tool_table(path)):
                return path
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return "cjkit" in tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False  # a broken pyproject.toml is not ours to report


def read_file(path: Path) -> dict[str, Any]:
    """Return the settings table of a config file; raise UsageError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: can't read the config file ({exc})") from None
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise UsageError(f"{where}: not valid YAML") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML ({exc})") from None
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("cjkit", {})
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a table of settings, got {type(data).__name__}")
    return data


def _value(key: str, value: Any, base: Path) -> Any:
    """Return ``value`` with a relative file path made relative to ``base``."""
    if key in PATH_KEYS and isinstance(value, str) and not Path(value).is_absolute():
        candidate = base / value
        if candidate.exists():
            return str(candidate)
    return value


def from_file(path: Path, commands: Iterable[str]) -> list[Setting]:
    """Return the settings of one file; a table named after a command is that command's."""
    names = set(commands)
    settings: list[Setting] = []
    for key, value in read_file(path).items():
        if isinstance(value, dict) and key in names:
            settings += [
                Setting(normalise(k), _value(normalise(k), v, path.parent), str(path), key)
                for k, v in value.items()
            ]
        else:
            settings.append(
                Setting(normalise(key), _value(normalise(key), value, path.parent), str(path))
            )
    return settings


def from_environment(environ: Mapping[str, str]) -> list[Setting]:
    """Return the settings given by ``CJKIT_*`` variables (empty values are ignored)."""
    return [
        Setting(key, environ[name], f"${name}")
        for name, key in VARIABLES.items()
        if environ.get(name, "").strip()
    ]


def resolve(
    *,
    config: Path | None,
    isolated: bool,
    commands: Iterable[str],
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Setting]:
    """Return every setting in order of increasing precedence (files first, variables last)."""
    if isolated:
        return []
    environ = os.environ if environ is None else environ
    path = config if config is not None else discover(cwd or Path.cwd())
    if config is not None and not config.is_file():
        raise UsageError(f"--config: no such file: {config}")
    settings = from_file(path, commands) if path is not None else []
    # The command tables outrank the top level of the same file.
    settings.sort(key=lambda s: s.command is not None)
    return settings + from_environment(environ)


def unknown_key(key: str, known: Iterable[str]) -> str:
    """Return the message for a key that no command has as a flag."""
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f"unknown setting '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")
