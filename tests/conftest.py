"""Shared fixtures: a CLI runner with a fixed terminal width, paths to shipped data.

Hypothesis profiles: ``HYPOTHESIS_PROFILE=dev`` (the default: few examples, for the fast loop,
``pytest -n 2 -m "not slow and not browser and not spark"``) or ``ci`` (the full counts; ``.ci/run`` sets it). Tests set no ``max_examples`` of their
own; one that is dearer or cheaper than the average asks for ``budget(share)`` of the
profile's count (tests/budget.py). ``pytest --update-golden`` rewrites ``tests/data/golden/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"

os.environ.setdefault("COLUMNS", "120")
os.environ.pop("FORCE_COLOR", None)

# ci: hypothesis' default of 100 examples a test (with the shares in tests/budget.py, exactly the
# counts the tests used to hard-code); dev: a tenth, enough to catch a broken invariant in seconds. Neither has a deadline: shared CI
# machines make per-example timings noisy.
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden``: rewrite the golden outputs instead of comparing with them."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/data/golden/ from the current outputs.",
    )


@pytest.fixture
def runner() -> CliRunner:
    """Return a CliRunner whose stdout and stderr are kept apart."""
    return CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
