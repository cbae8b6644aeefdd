"""The typer app, its root callback, the error boundary ``reported`` and the entry points.

Command modules (``cjkit.cli.maps``, ``.inspect``, ``.funnel``, ``.cohorts``, ``.metrics``)
register themselves on :data:`app` when ``cjkit.cli`` imports them. Heavy modules (polars,
rich, the engine) are imported inside the commands, so ``cjkit --help`` and ``cjkit --version``
stay fast in shell scripts that call cjkit often.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from cjkit import __version__
from cjkit.cli.helptext import Group
from cjkit.errors import CjkitError, MapInvalid
from cjkit.text import escape_controls

app = typer.Typer(
    name="cjkit",
    cls=Group,
    help="Customer-journey funnel analytics from event logs (AARRR, AIDA, 5A, your own maps).",
    no_args_is_help=True,
    add_completion=True,  # typer's --install-completion / --show-completion (bash, zsh, fish)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# The run's state: set by the root options (and their copies after the subcommand).
_STATE: dict[str, Any] = {"debug": False, "quiet": False, "verbose": 0, "settings": []}

_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cjkit {__version__}")
        raise typer.Exit()


# Callbacks of -q/-v, which also sit on every subcommand (cjkit.cli.helptext): they set the
# run's state and return the value, which click passes on to the root callback.
def _quiet(value: bool) -> bool:
    if value:
        _STATE["quiet"] = True
    return value


def _verbose(value: int | None) -> int:
    _STATE["verbose"] = max(_STATE["verbose"], value or 0)
    return value or 0


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", callback=_quiet, help="Print no warnings.")
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            callback=_verbose,
            show_default=False,
            help="Say on stderr which settings apply and where they come from.",
        ),
    ] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", metavar="FILE", help="Read settings from this file, not the nearest one."
        ),
    ] = None,
    isolated: Annotated[
        bool, typer.Option("--isolated", help="Ignore config files and CJKIT_* variables.")
    ] = False,
) -> None:
    """Customer-journey funnel analytics from event logs."""
    del version
    _STATE.update(debug=debug, quiet=quiet, verbose=verbose or 0, settings=[])
    with reported():
        from cjkit.cli.defaults import apply
        from cjkit.environment import check_environment

        check_environment()  # every command refuses a bad CJKIT_MEMORY_LIMIT, not only some
        _STATE["settings"] = apply(ctx, config=config, isolated=isolated)


def err(text: str) -> None:
    """Write one line to stderr (newlines inside ``text`` become spaces; the spinner is
    cleared first, and control characters are escaped so data can't drive the terminal)."""
    from cjkit import progress

    progress.clear()
    sys.stderr.write(escape_controls(text.replace("\n", " ")) + "\n")


def warn(messages: Sequence[str]) -> None:
    """Print warnings to stderr unless ``--quiet``."""
    if not _STATE["quiet"]:
        for message in messages:
            err(f"Warning: {message}")


@contextmanager
def reported(progress: str | None = None) -> Iterator[None]:
    """The one error boundary: user errors print one line and exit with their code.

    With ``progress``, a spinner shows on stderr for long runs (only on a TTY, never with -q).
    """
    if _STATE["verbose"]:
        for setting in _STATE["settings"]:
            err(f"Setting: {setting}")
    try:
        if progress and not _STATE["quiet"]:
            from cjkit.render.console import busy

            with busy(progress):
                yield
        else:
            yield
    except MapInvalid as exc:
        for problem in exc.problems:
            err(f"Error: {problem}")
        raise typer.Exit(exc.exit_code) from None
    except CjkitError as exc:
        from cjkit.cli.boundary import error_line

        err(error_line(exc))
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, _CLICK_ERROR):
        raise
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # PanicException and signals are BaseExceptions too
        _fail(exc)


def _fail(exc: BaseException) -> NoReturn:
    """Print what :func:`cjkit.cli.boundary.classify` makes of ``exc`` and exit with its code."""
    from cjkit import progress
    from cjkit.cli.boundary import classify

    progress.clear()
    outcome = classify(exc)
    if outcome.code == 3 and _STATE["debug"]:
        traceback.print_exception(exc)
    if outcome.line:
        err(outcome.line)
    raise typer.Exit(outcome.code) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code. Usage errors print one line and return 2."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    _prepare(args)
    try:
        try:
            result = command.main(args=args, prog_name="cjkit", standalone_mode=False)
        except (typer.Exit, typer.Abort, _CLICK_ERROR):
            raise
        except SystemExit:
            raise
        except BaseException as exc:  # outside ``reported`` (callbacks): the same rules
            _fail(exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err("Aborted.")
        return 130
    except _CLICK_ERROR as exc:
        message = exc.format_message()  # type: ignore[attr-defined]
        err(f"Error: {message} (see 'cjkit {_subcommand(args)}--help')")
        return int(getattr(exc, "exit_code", 2))
    return int(result) if isinstance(result, int) else 0


def _prepare(args: list[str]) -> None:
    """Handle SIGINT/SIGTERM (no temporary file is left behind) and keep Rust's panic
    backtraces (RUST_BACKTRACE) off the terminal unless ``--debug``."""
    from cjkit.io.output import install_signal_handlers

    install_signal_handlers()
    if "--debug" not in args:
        os.environ["RUST_BACKTRACE"] = "0"


def _subcommand(args: list[str]) -> str:
    names = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    first = next((a for a in args if not a.startswith("-")), None)
    return f"{first} " if first in names else ""


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
