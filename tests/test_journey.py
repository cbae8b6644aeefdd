"""``cjkit journey``: one unit's timeline, the stage each event filled, and why it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cjkit.cli import app

ROWS = [
    ("a", "visit", "2025-01-01T10:00:00Z"),
    ("a", "browse", "2025-01-01T10:01:00Z"),
    ("a", "signup", "2025-01-01T10:05:00Z"),
    ("a", "purchase", "2025-01-01T11:00:00Z"),
    ("b", "visit", "2025-01-01T10:00:00Z"),
    ("b", "signup", "2025-01-01T10:05:00Z"),
    ("c", "visit", "2025-01-01T10:00:00Z"),
    ("c", "signup", "2025-01-03T10:00:00Z"),  # after the 1-day window
    ("d", "browse", "2025-01-01T10:00:00Z"),
]


@pytest.fixture
def events(tmp_path: Path) -> str:
    frame = pl.DataFrame(ROWS, schema=["user_id", "event", "timestamp"], orient="row")
    path = tmp_path / "events.parquet"
    frame.with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC")).write_parquet(path)
    return str(path)


def _journey(runner: CliRunner, events: str, unit: str) -> dict[str, object]:
    args = ["journey", events, "--unit", unit, "-s", "visit", "-s", "signup", "-s", "purchase"]
    result = runner.invoke(app, [*args, "--window", "1d", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_full_journey_marks_each_stage(runner: CliRunner, events: str) -> None:
    doc = _journey(runner, events, "a")
    assert doc["kind"] == "journey"
    assert [e["stage"] for e in doc["events"]] == ["visit", None, "signup", "purchase"]  # type: ignore[union-attr,index]
    assert doc["furthest"] == {"index": 3, "name": "purchase"}
    assert doc["stopped"] is None


@pytest.mark.parametrize(
    ("unit", "reason", "furthest"),
    [("b", "no_next_event", 2), ("c", "window_ran_out", 1), ("d", "never_entered", None)],
)
def test_why_it_stopped(
    runner: CliRunner, events: str, unit: str, reason: str, furthest: int | None
) -> None:
    doc = _journey(runner, events, unit)
    assert doc["stopped"]["reason"] == reason  # type: ignore[index]
    got = doc["furthest"]["index"] if doc["furthest"] else None  # type: ignore[index]
    assert got == furthest
    if reason == "window_ran_out":
        assert "2025-01-02T10:00:00" in doc["stopped"]["detail"]  # type: ignore[index]


def test_unknown_unit_is_exit_2(runner: CliRunner, events: str) -> None:
    result = runner.invoke(app, ["journey", events, "--unit", "zz", "-s", "visit", "-s", "signup"])
    assert result.exit_code == 2
    assert "no events for unit 'zz'" in result.stderr
