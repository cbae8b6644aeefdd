"""``cjkit paths`` from the shell: the shop's drop-off question, JSON/CSV contracts, maps'
``paths.cleaning``, bad input as one line with exit 2, and DuckDB SQL agreeing on the edges."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cjkit.api.paths import PathsOptions, paths
from cjkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHOP = str(ROOT / "examples" / "shop" / "events.parquet")
DROP = ["--funnel-step", "-3", "--after", "-s", "visit", "-s", "signup", "-s", "purchase"]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_shop_drop_off_at_purchase(runner: CliRunner) -> None:
    result = runner.invoke(app, ["paths", SHOP, *DROP])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "reached signup but not purchase" in out
    assert "signup → onboarding_complete" in out
    assert "Where paths end" in out
    assert "\x1b[" not in out  # NO_COLOR: plain text
    assert len(out.splitlines()) < 60  # one screen
    doc = json.loads(runner.invoke(app, ["paths", SHOP, *DROP, "-f", "json"]).stdout)
    assert doc["kind"] == "paths"
    assert doc["settings"]["funnel"] == {
        "step": -3,
        "mode": "after",
        "steps": ["visit", "signup", "purchase"],
        "window_seconds": 14 * 86400,
        "order": "ordered",
    }
    links = doc["links"]
    assert links == sorted(links, key=lambda x: (-x["value"], x["source"], x["target"]))
    assert all(
        set(x) >= {"source", "target", "value", "units", "mean_time_s", "median_time_s"}
        for x in links
    )
    assert links[0]["source"] == "1_signup"


def test_csv_is_one_row_per_edge(runner: CliRunner) -> None:
    args = ["paths", SHOP, "--steps", "3", "--top", "2"]
    result = runner.invoke(app, [*args, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("step,source,target,source_key,target_key,value,units")
    doc = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    assert len(lines) == 1 + len(doc["links"]) == 3
    every = json.loads(runner.invoke(app, ["paths", SHOP, "--steps", "3", "-f", "json"]).stdout)
    assert doc["pruned_links"] == len(every["links"]) - 2
    assert doc["links"] == every["links"][:2]


def test_map_cleaning_and_matrix(runner: CliRunner, tmp_path: Path) -> None:
    rows = [("u1", "view_1", 0), ("u1", "view_22", 10), ("u2", "view_3", 0), ("u2", "buy", 5)]
    frame = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "timestamp": [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=r[2]) for r in rows],
        }
    )
    src = tmp_path / "e.parquet"
    frame.write_parquet(src)
    mapfile = tmp_path / "map.yaml"
    mapfile.write_text(
        "extends: aida\npaths:\n  cleaning:\n    - {regex: '^view_\\d+$', alias: view}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["paths", str(src), "-m", str(mapfile), "--matrix", "--transitions", "-f", "json"]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {p["nodes"][0] for p in doc["paths"]} == {"view"}
    rows_ = {r["event"]: r["shares"] for r in doc["step_matrix"]["rows"]}
    assert rows_["view"][0] == 1.0
    assert rows_["path_end"][1] == 0.5
    assert {(t["from"], t["to"]) for t in doc["transitions"]} >= {
        ("path_start", "view"),
        ("buy", "path_end"),
    }


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--start", "vist"], "did you mean 'visit'"),
        (["--clean", "product(=>x"], "position 7"),
        (["--steps", "0"], "--steps"),
        (["--session", "0.2s"], "at least 1s"),
        (["--funnel-step", "5", "-s", "visit", "-s", "signup"], "--funnel-step 5"),
        (
            ["--funnel-step", "2", "--after", "--before", "-s", "visit", "-s", "signup"],
            "choose one",
        ),
        (["--node", "visit=nope"], "nope"),
    ],
)
def test_bad_input_one_line_exit_2(runner: CliRunner, args: list[str], needle: str) -> None:
    result = runner.invoke(app, ["paths", SHOP, *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


@settings(deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["u1", "u2", "u3"]),
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 50),
        ),
        min_size=1,
        max_size=30,
    ),
    steps=st.integers(1, 5),
)
def test_duckdb_sql_agrees(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, int]], steps: int
) -> None:
    import paths_bench  # benchmarks/paths_bench.py: the SQL the benchmark times

    src = tmp_path_factory.mktemp("duck") / "e.parquet"
    pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "timestamp": [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=r[2]) for r in rows],
        }
    ).write_parquet(src)
    report = paths([str(src)], PathsOptions(steps=steps, top=10**9))
    ours = sorted((x.step, x.source, x.target, x.value) for x in report.links)
    assert ours == paths_bench.run_duckdb(str(src), steps)
