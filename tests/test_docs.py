"""Docs that can't drift: the CLI reference is generated, and the README names every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cjkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = [sys.executable, "-m", "typer", "cjkit.cli", "utils", "docs", "--name", "cjkit"]


def _commands() -> list[str]:
    group = typer.main.get_command(app)
    names: list[str] = []
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        names.extend(f"{name} {sub}" for sub in sorted(subs)) if subs else names.append(name)
    return names


def test_cli_reference_is_current() -> None:
    done = subprocess.run(REGENERATE, capture_output=True, text=True, check=True, cwd=ROOT)
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert done.stdout.strip() == current.strip(), (
        "docs/cli.md is out of date; regenerate it with: "
        "python -m typer cjkit.cli utils docs --name cjkit --output docs/cli.md"
    )


@pytest.mark.parametrize("command", _commands())
def test_command_in_readme(command: str) -> None:
    assert f"cjkit {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_metrics_doc_defines_every_kind_metric() -> None:
    from cjkit.maps.schema import FUNNEL_METRICS, KIND_METRICS

    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    for name in {*FUNNEL_METRICS, *(m for ms in KIND_METRICS.values() for m in ms)}:
        assert f"`{name}`" in text, f"docs/metrics.md does not define {name}"


def test_readme_output_is_real() -> None:
    """The README's pasted report must still be what the main command prints."""
    import os

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ cjkit metrics examples/shop/events.parquet --model aarrr\n"
    block = readme.split(command, 1)[1].split("```", 1)[0]
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "cjkit", "metrics", "examples/shop/events.parquet", "--model", "aarrr"],
        capture_output=True, text=True, check=True, cwd=ROOT, env=env,
    )
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    for line in block.splitlines():
        if line and line != "…":
            assert line in printed, f"README line no longer printed: {line!r}"
