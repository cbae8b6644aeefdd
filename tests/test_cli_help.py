"""Help for people: real metavars, shown defaults, full summaries, a docs pointer, and two or
three examples per command that run against the shipped example data."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cjkit.cli import app
from cjkit.cli.defaults import commands
from cjkit.cli.helptext import examples

ROOT = Path(__file__).resolve().parents[1]
GROUP = typer.main.get_command(app)
LEAVES = {" ".join(path): command for path, command in commands(GROUP)}
# Commands whose examples finish in about a second: run in the fast loop; the rest are slow.
QUICK = {"validate", "init", "schema", "models list", "models show", "config show"}
# Exit 1 is the answer of these commands (a failed check), not an error.
GATES = {"check", "validate"}


def _help(args: list[str]) -> str:
    done = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"}).invoke(app, [*args, "--help"])
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_help_has_no_type_names_as_metavars(name: str) -> None:
    text = _help(name.split())
    for bad in ("<str>", "<int>", "<list[str]>", "<path>", "<float>", "{events}"):
        assert bad not in text, f"cjkit {name} --help shows {bad}"


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_every_command_has_two_or_three_examples(name: str) -> None:
    found = examples(LEAVES[name].help)
    assert 2 <= len(found) <= 3, f"cjkit {name}: give 2-3 examples in its docstring, got {found}"
    assert all(line.startswith(f"cjkit {name} ") or line == f"cjkit {name}" or
               line.startswith("cjkit --") for line in found)


def _example_params() -> list[Any]:
    params = []
    for name, command in sorted(LEAVES.items()):
        for line in examples(command.help):
            marks = [] if name in QUICK else [pytest.mark.slow]
            params.append(pytest.param(name, line, id=line[:70], marks=marks))
    return params


@pytest.mark.parametrize(("name", "line"), _example_params())
def test_example_runs(
    name: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = shlex.split(line)[1:]
    # Files an example writes go to a temporary folder, not into the project.
    for i, arg in enumerate(args[:-1]):
        if arg in ("-o", "--output", "--units"):
            args[i + 1] = str(tmp_path / Path(args[i + 1]).name)
    env = {"COLUMNS": "100", "NO_COLOR": "1", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    done = CliRunner(env=env).invoke(app, args)
    allowed = (0, 1) if name in GATES else (0,)
    assert done.exit_code in allowed, f"{line}: exit {done.exit_code}\n{done.stderr}"
    assert "Error" not in done.stderr, done.stderr
    assert done.stdout or list(tmp_path.iterdir()), f"{line}: printed and wrote nothing"


def test_top_level_summaries_are_whole_and_end_with_docs() -> None:
    text = _help([])
    for name, command in GROUP.commands.items():  # type: ignore[attr-defined]
        first = " ".join(command.help.split("\n\n")[0].split()) if command.help else ""
        line = " ".join(text.split(f"  {name} ", 1)[1].split("\n  ")[0].split()) if first else ""
        assert "..." not in line, f"{name}: summary cut in cjkit --help"
    assert text.rstrip().endswith("in the cjkit sources.")
    assert "docs/cli.md" in text


@pytest.mark.parametrize(
    ("command", "flag", "shown"),
    [
        ("funnel", "--order", "[default: ordered (or the map's)]"),
        ("funnel", "--window-anchor", "[default: latest (or the map's)]"),
        ("funnel", "--window", "DURATION"),
        ("funnel", "--order", "ordered|strict|any"),
        ("retention", "--since", "DATE|TIME"),
        ("metrics", "--format", "table|json|csv|markdown"),
    ],
)
def test_help_shows_metavars_and_defaults(command: str, flag: str, shown: str) -> None:
    text = " ".join(_help([command]).split("Options:", 1)[1].split())
    after = text.split(f" {flag} ", 1)[1]
    assert shown in after[:200]


def test_quiet_and_verbose_accepted_after_every_command() -> None:
    for name, command in LEAVES.items():
        opts = {o for p in command.params for o in getattr(p, "opts", ())}
        assert {"-q", "-v"} <= opts, f"cjkit {name} lacks -q/-v"
