"""What the error boundary makes of an exception that is not a :class:`CjkitError`.

:func:`classify` returns the exit code and the one line to print for everything a run can
raise, ``BaseException`` included (pyo3's ``PanicException`` is one). User-caused failures
(a path the system refuses, data that makes Polars give up, input nested too deep, memory)
are exit 2 with the file and what was expected; signals are 130 and 143; a reader that closed
stdout (``| head -1``) ends quietly with 141, as a process killed by SIGPIPE does. Only what
is left is a bug (exit 3).

:func:`error_line` prints a :class:`~cjkit.errors.CjkitError`: the library names options by
their field (``week_start``), the CLI by its flag (``--week-start``).
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass

from cjkit.errors import CjkitError, Terminated

# Errors of the operating system about a path the user gave.
_PATH_ERRNOS = {
    errno.ENAMETOOLONG,
    errno.EACCES,
    errno.EPERM,
    errno.ELOOP,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENOENT,
    errno.ENXIO,
    errno.EIO,
    errno.ENOSPC,
    errno.EROFS,
    errno.EMFILE,
    errno.ENFILE,
}
# Polars errors that report something about the data, not about cjkit's own plan.
_DATA_ERRORS = ("ComputeError", "SchemaError", "InvalidOperationError", "OutOfBoundsError")
SIGPIPE_EXIT = 141


@dataclass(frozen=True)
class Outcome:
    """The exit code and the line for stderr (empty: print nothing)."""

    code: int
    line: str


# Fields whose flag is not the field name with dashes: EngineOptions.conf is --spark-conf,
# FunnelOptions.anchor is --window-anchor.
_FLAGS = {"conf": "--spark-conf", "anchor": "--window-anchor"}


def flag(field: str) -> str:
    """Return the CLI flag of an option's field name: ``week_start`` is ``--week-start``."""
    return _FLAGS.get(field, "--" + field.replace("_", "-"))


def error_line(exc: CjkitError) -> str:
    """Return the line the CLI prints for ``exc``: its message and hint, options as flags."""
    hint = exc.hint_text(flag)
    return f"Error: {exc.text(flag)}" + (f" (hint: {hint})" if hint else "")


def first_line(exc: BaseException) -> str:
    """Return the first non-empty line of ``str(exc)``, cut to 300 characters."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def classify(exc: BaseException) -> Outcome:
    """Return what the CLI does with ``exc`` (not a CjkitError and not a typer exit)."""
    if isinstance(exc, BrokenPipeError):
        quiet_stdout()
        return Outcome(SIGPIPE_EXIT, "")
    if isinstance(exc, KeyboardInterrupt):
        return Outcome(130, "Interrupted.")
    if isinstance(exc, Terminated):
        return Outcome(143, "Terminated.")
    name = type(exc).__name__
    if name == "PanicException":
        return Outcome(
            2,
            f"Error: Polars could not process the events ({first_line(exc)}); a value is "
            "probably out of range, such as a time beyond the years 1-9999",
        )
    if isinstance(exc, RecursionError):
        return Outcome(2, "Error: the input is nested too deeply to read (a map, or a JSON value)")
    if isinstance(exc, MemoryError):
        return Outcome(
            2,
            "Error: out of memory (hint: set CJKIT_MEMORY_LIMIT lower, or narrow the input "
            "with --since/--until)",
        )
    if isinstance(exc, OSError) and exc.errno in _PATH_ERRNOS:
        where = exc.filename if exc.filename is not None else "a file"
        return Outcome(2, f"Error: {where}: {os.strerror(exc.errno or 0)}")
    if isinstance(exc, OverflowError) or (
        isinstance(exc, ValueError) and "out of range" in str(exc) and "year" in str(exc)
    ):
        return Outcome(
            2,
            f"Error: a time is outside the years 1-9999 ({first_line(exc)}); check the time "
            "column's format (--time-format) and --since/--until",
        )
    if name in _DATA_ERRORS and type(exc).__module__.startswith("polars"):
        return Outcome(2, f"Error: can't process the events: {first_line(exc)}")
    return Outcome(
        3,
        f"Internal error: {name}: {first_line(exc)} — this is a bug in cjkit; please report it "
        "with the command you ran (rerun with --debug for the traceback)",
    )


def quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush can't fail on a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
