"""The CjkitError tree: every error a user can cause, with its exit code and an optional hint.

The CLI has one boundary that prints these as a one-line ``Error: …`` and exits with
``exit_code``. Anything else that escapes is a bug (exit 3).

Errors name options by their field (``period``, ``week_start``), as a library user passes them;
the CLI names its flags instead (``--period``, ``--week-start``). An error says which words are
options: ``option`` is the field the message starts with (``"period: expected …"``), and each
field in ``options`` stands in the message (and the hint) as ``{field}``. ``str(error)`` names the
fields; :meth:`CjkitError.text` with the CLI's naming function names the flags.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence


def _same(field: str) -> str:
    return field


class CjkitError(Exception):
    """A problem the user can fix. ``str(error)`` is the one-line message."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        option: str | None = None,
        options: Sequence[str] = (),
    ) -> None:
        self._template = (message, hint)
        self.option = option
        self.options = tuple(options)
        self.message = self.text()
        self.hint = self.hint_text()
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def text(self, name: Callable[[str], str] = _same) -> str:
        """Return the message with every option named by ``name`` (by default, its field)."""
        message = self._fill(self._template[0], name)
        if self.option and message.startswith(self.option):
            message = name(self.option) + message[len(self.option) :]
        return message

    def hint_text(self, name: Callable[[str], str] = _same) -> str | None:
        """Return the hint with every option in ``options`` named by ``name``."""
        hint = self._template[1]
        return None if hint is None else self._fill(hint, name)

    def _fill(self, text: str, name: Callable[[str], str]) -> str:
        for field in self.options:
            text = text.replace("{" + field + "}", name(field))
        return text


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


def one_of(field: str, value: str, choices: Sequence[str]) -> str:
    """Return ``value`` when it is one of ``choices``; raise UsageError naming ``field`` (an
    option's field name, such as ``week_start``: the CLI names its flag)."""
    if value not in choices:
        raise UsageError(
            f"{field}: expected one of {', '.join(choices)}, got {value!r}",
            hint=did_you_mean(value, choices),
            option=None if field.startswith("-") else field,
        )
    return value


class Terminated(BaseException):
    """SIGTERM arrived (``cjkit.io.output`` raises it); the CLI exits 143 (128 + 15).

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it.
    """
