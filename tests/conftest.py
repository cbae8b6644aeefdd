"""Shared fixtures: a CLI runner with a fixed terminal width, paths to shipped data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"

os.environ.setdefault("COLUMNS", "120")
os.environ.pop("FORCE_COLOR", None)


@pytest.fixture
def runner() -> CliRunner:
    """Return a CliRunner whose stdout and stderr are kept apart."""
    return CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
