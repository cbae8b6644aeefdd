"""The CLI's promises to shell scripts: version, help, exit codes, no polars at start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from cjkit import __version__
from cjkit.cli import app, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cjkit {__version__}"


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([])
    out = capsys.readouterr()
    assert code in (0, 2)
    assert "funnel" in out.out + out.err
    assert "Usage" in out.out + out.err


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_startup_does_not_import_polars(args: list[str]) -> None:
    code = (
        f"import sys; from cjkit.cli import main; rc = main({args!r}); "
        "sys.stdout.write('\\nPOLARS=' + str('polars' in sys.modules)); sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("POLARS=False")


# What start-up must not load (issue 16: --help and --version under 0.2 s whole process).
HEAVY = ("polars", "scipy", "numpy", "pyarrow", "duckdb", "cjkit.api", "cjkit.engine")


def test_no_command_help_imports_a_heavy_module() -> None:
    # Every command and subcommand the app has, so a new command is covered the day it lands.
    code = (
        "import sys, typer.main\n"
        "from cjkit.cli import app, main\n"
        "group = typer.main.get_command(app)\n"
        "names = [[n] for n in group.commands]\n"
        "names += [[n, s] for n, c in group.commands.items() for s in getattr(c, 'commands', {})]\n"
        f"heavy = {HEAVY!r}\n"
        "for args in names:\n"
        "    assert main([*args, '--help']) == 0, args\n"
        "    loaded = [m for m in heavy if m in sys.modules]\n"
        "    assert not loaded, (args, loaded)\n"
        "print(len(names))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 17  # funnel … config: every command of the CLI


def test_unknown_option_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["funnel", "x.csv", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("Error: No such option: --bogus")


def test_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["funel"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "funel" in err


def test_internal_error_exit_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import cjkit.api

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cjkit.api, "inspect", boom)
    assert main(["inspect", "whatever.csv"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Internal error: RuntimeError: kaboom" in err
    assert "Traceback" not in err


def test_debug_shows_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import cjkit.api

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cjkit.api, "inspect", boom)
    assert main(["--debug", "inspect", "whatever.csv"]) == 3
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(typer.main.get_command(app).commands))  # type: ignore[attr-defined]
def test_every_command_has_help(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help, f"{name} has no help text"
