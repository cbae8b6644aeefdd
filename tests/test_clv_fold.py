"""`cjkit clv --by` on a column with many values: tables show the 50 largest and one (other)
group whose figures are those of its units; JSON keeps every value."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cjkit.api.clv import ClvOptions, clv
from cjkit.cli import app


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Unit u has (u % 4) + 1 purchase days; its city is u % 120, so city c holds
    # 25 units (3,000 units / 120) and the largest cities are ranked by units, ties by value.
    rows = []
    start = datetime(2024, 1, 1)
    for u in range(3000):
        for k in range(u % 4 + 1):
            rows.append(
                (str(u), start + timedelta(days=(u * 7 + k * 31) % 300), 10.0 + k, str(u % 120))
            )
    path = tmp_path_factory.mktemp("fold") / "events.parquet"
    pl.DataFrame(
        rows, schema=["user_id", "timestamp", "amount", "city"], orient="row"
    ).with_columns(event=pl.lit("purchase")).write_parquet(path)
    return path


def _options(fold: int | None) -> ClvOptions:
    return ClvOptions(
        model=None, purchase_event="purchase", amount="amount", by=("city",), fold=fold
    )


def test_the_fold_keeps_the_largest_values_and_adds_up(events: Path) -> None:
    whole = clv([str(events)], _options(None)).report.breakdowns[0]
    folded = clv([str(events)], _options(50)).report.breakdowns[0]
    assert len(whole["groups"]) == 120
    assert "folded" not in whole
    assert folded["folded"] == {"top": 50, "values": 120, "folded_segments": 70}
    assert len(folded["groups"]) == 51
    other = next(g for g in folded["groups"] if g["value"] == "(other)")
    assert other["units"] == 70 * 25
    # Every value ties at 25 units, so the kept ones are the 50 smallest as text.
    kept = sorted(g["value"] for g in folded["groups"] if g["value"] != "(other)")
    assert kept == sorted(sorted(str(c) for c in range(120))[:50])
    # (other)'s sums are those of its units, recomputed, not averaged.
    by_value = {g["value"]: g for g in whole["groups"]}
    rest = [v for v in by_value if v not in kept]
    assert other["expected_purchases"] == pytest.approx(
        sum(by_value[v]["expected_purchases"] for v in rest), rel=1e-9
    )
    assert sum(g["units"] for g in folded["groups"]) == 3000


def test_the_table_folds_and_says_so_while_json_keeps_every_value(events: Path) -> None:
    args = [
        "clv",
        str(events),
        "--purchase-event",
        "purchase",
        "--amount",
        "amount",
        "--by",
        "city",
    ]
    runner = CliRunner()
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "showing 50 of 120 city values, the rest as (other); --format json for all" in (
        table.output
    )
    markdown = runner.invoke(app, [*args, "--format", "markdown"])
    assert "_showing 50 of 120 city values" in markdown.stdout
    assert "| (other) | 1,750 |" in markdown.stdout
    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert len(doc["breakdowns"][0]["groups"]) == 120
