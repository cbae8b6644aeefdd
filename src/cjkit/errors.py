"""The CjkitError tree: every error a user can cause, with its exit code and an optional hint.

The CLI has one boundary that prints these as a one-line ``Error: …`` and exits with
``exit_code``. Anything else that escapes is a bug (exit 3).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class CjkitError(Exception):
    """A problem the user can fix. ``str(error)`` is the one-line message."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(CjkitError):
    """A bad flag value or a bad combination of flags."""


class InputError(CjkitError):
    """Event data that can't be read or doesn't have what the command needs."""


class OutputError(CjkitError):
    """An output file that can't be written."""


class ConfigError(CjkitError):
    """A model or map that can't be read (missing file, unknown built-in name)."""


class MapProblem:
    """One problem in a map file, located at ``file:line:col`` and a dotted key path."""

    __slots__ = ("col", "file", "key", "line", "message", "severity")

    def __init__(
        self,
        file: str,
        line: int,
        col: int,
        key: str,
        message: str,
        severity: str = "error",
    ) -> None:
        self.file = file
        self.line = line
        self.col = col
        self.key = key
        self.message = message
        self.severity = severity

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-ready dict."""
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "key": self.key,
            "message": self.message,
            "severity": self.severity,
        }


class MapInvalid(CjkitError):
    """A map (or model) file with problems; ``problems`` lists each with its location."""

    exit_code = 1

    def __init__(self, problems: list[MapProblem]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return the closest choice to ``word`` as a hint sentence, or None."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def one_of(flag: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value`` when it is one of ``choices``; raise UsageError naming ``flag``."""
    if value not in choices:
        raise UsageError(
            f"{flag}: expected one of {', '.join(choices)}, got {value!r}",
            hint=did_you_mean(value, choices),
        )
    return value


class Terminated(BaseException):
    """SIGTERM arrived (``cjkit.io.output`` raises it); the CLI exits 143 (128 + 15).

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it.
    """
