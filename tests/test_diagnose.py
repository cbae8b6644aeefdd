"""Insight on funnels and ``cjkit diagnose``: PostHog's cases (time-to-convert bins, trends,
correlation), period comparison, segments against the rest, planted bottlenecks, false
discoveries on logs without plants, and the CLI contracts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cjkit import api
from cjkit.api.insight import InsightOptions, segment_report
from cjkit.cli import app
from cjkit.engine.funnel.journeys import FunnelSpec, Step
from cjkit.engine.insight.compare import mark_significant
from cjkit.engine.matchers import Matcher

pytest.importorskip("scipy.stats")

STEPS = ("step one", "step two", "step three")


def _write(tmp_path: Path, rows: list[tuple[Any, ...]], cols: tuple[str, ...] = ()) -> str:
    names = ["user_id", "event", "timestamp", *cols]
    frame = pl.DataFrame(rows, schema=names, orient="row").with_columns(
        pl.col("timestamp").str.to_datetime(time_zone="UTC")
    )
    path = tmp_path / "events.parquet"
    frame.write_parquet(path)
    return str(path)


def _funnel(path: str, steps: tuple[str, ...] = STEPS, **kw: Any) -> dict[str, Any]:
    insight = {k: kw.pop(k) for k in list(kw) if k in InsightOptions.__dataclass_fields__}
    options = api.FunnelOptions(steps=steps, insight=InsightOptions(**insight), **kw)
    return api.funnel([path], options).report.to_dict()


# --- PostHog's time-to-convert bins (test_funnel_time_to_convert.py) ------------------------


def _ttc_log(tmp_path: Path) -> str:
    rows = [
        ("a", "step one", "2021-06-08T18:00:00Z"),
        ("a", "step two", "2021-06-08T19:00:00Z"),  # 3600 s
        ("a", "step three", "2021-06-08T21:00:00Z"),
        ("b", "step one", "2021-06-09T13:00:00Z"),
        ("b", "step two", "2021-06-09T13:37:00Z"),  # 2220 s
        ("c", "step one", "2021-06-11T07:00:00Z"),
        ("c", "step two", "2021-06-12T06:00:00Z"),  # 82 800 s
    ]
    return _write(tmp_path, rows)


def test_auto_bins_match_posthog_test_auto_bin_count_single_step(tmp_path: Path) -> None:
    doc = _funnel(_ttc_log(tmp_path), window="7d", ttc_from=1, ttc_to=2)
    h = doc["time_to_convert_histogram"]
    assert [(b["start_s"], b["units"]) for b in h["bins"]] == [(2220, 2), (42510, 0), (82800, 1)]
    assert h["mean_s"] == pytest.approx(29540)
    assert h["percentiles"]["p50_s"] == pytest.approx(3600)


def test_custom_bins_match_posthog_test_custom_bin_count_single_step(tmp_path: Path) -> None:
    doc = _funnel(_ttc_log(tmp_path), window="7d", ttc_from=1, ttc_to=2, ttc_bins="7")
    bins = [(b["start_s"], b["units"]) for b in doc["time_to_convert_histogram"]["bins"]]
    assert bins == [
        (2220, 2),
        (13732, 0),
        (25244, 0),
        (36756, 0),
        (48268, 0),
        (59780, 0),
        (71292, 1),
        (82804, 0),
    ]


def test_percentiles_are_numpy_linear(tmp_path: Path) -> None:
    doc = _funnel(_ttc_log(tmp_path), window="7d", ttc_from=1, ttc_to=2)
    got = doc["time_to_convert_histogram"]["percentiles"]
    for q in (25, 50, 75, 90, 95, 99):
        assert got[f"p{q}_s"] == pytest.approx(np.percentile([3600, 2220, 82800], q))


# --- PostHog's funnel trends (test_funnel_trends.py) -----------------------------------------


def test_trend_matches_posthog_one_person_in_multiple_periods_and_windows(tmp_path: Path) -> None:
    rows = [
        ("one", "step one", "2021-05-01T01:00:00Z"),
        ("one", "step two", "2021-05-01T02:00:00Z"),
        ("one", "step three", "2021-05-01T03:00:00Z"),
        ("one", "step one", "2021-05-03T01:00:00Z"),
        ("one", "step two", "2021-05-03T02:00:00Z"),
        ("one", "step one", "2021-05-04T11:00:00Z"),
        ("one", "step two", "2021-05-04T12:00:00Z"),
        ("one", "step three", "2021-05-04T13:00:00Z"),
        ("two", "step one", "2021-05-04T18:00:00Z"),
    ]
    doc = _funnel(
        _write(tmp_path, rows), window="1d", since="2021-05-01", until="2021-05-04", trend="day"
    )
    got = [(r["period"], r["counts"][0], r["counts"][2]) for r in doc["trend"]]
    # reached_from / reached_to per day: 1/1, 0/0, 1/0, 2/1
    assert got == [
        ("2021-05-01", 1, 1),
        ("2021-05-02", 0, 0),
        ("2021-05-03", 1, 0),
        ("2021-05-04", 2, 1),
    ]
    # The data ends 2021-05-04 18:00: a day is complete once its last moment + 1 d has passed.
    assert [r["complete"] for r in doc["trend"]] == [True, True, False, False]
    assert doc["trend"][2]["completes_at"].startswith("2021-05-04T23:59:59")


# --- PostHog's correlation (test_funnel_correlation.py) ---------------------------------------


def test_correlation_matches_posthog_basic_funnel_correlation_with_events(tmp_path: Path) -> None:
    rows: list[tuple[Any, ...]] = []
    for i in range(10):
        rows.append((f"u{i}", "user signed up", "2020-01-02T14:00:00Z"))
        if i % 2 == 0:
            rows.append((f"u{i}", "positively_related", "2020-01-03T14:00:00Z"))
        rows.append((f"u{i}", "paid", "2020-01-04T14:00:00Z"))
    for i in range(10, 20):
        rows.append((f"u{i}", "user signed up", "2020-01-02T14:00:00Z"))
        if i % 2 == 0:
            rows.append((f"u{i}", "negatively_related", "2020-01-03T14:00:00Z"))
    doc = _funnel(_write(tmp_path, rows), steps=("user signed up", "paid"), correlate="events")
    block = doc["correlation"]
    assert (block["success_total"], block["failure_total"]) == (10, 10)
    names = [
        (r["name"], r["success_count"], r["failure_count"], r["correlation_type"])
        for r in block["results"]
    ]
    assert names == [
        ("positively_related", 5, 0, "success"),
        ("negatively_related", 0, 5, "failure"),
    ]
    assert block["results"][0]["odds_ratio"] == pytest.approx(11)
    assert block["results"][1]["odds_ratio"] == pytest.approx(1 / 11)
    excluded = _funnel(
        _write(tmp_path, rows),
        steps=("user signed up", "paid"),
        correlate="events",
        correlate_exclude=("positively_related",),
    )
    assert [r["name"] for r in excluded["correlation"]["results"]] == ["negatively_related"]


# --- synthetic logs ----------------------------------------------------------------------------

CHANNELS = ("ads", "email", "seo", "social")
START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday


def _log(
    seed: int,
    n: int,
    *,
    rates: tuple[float, float] = (0.5, 0.5),
    plant: dict[str, tuple[float, float]] | None = None,
    days: int = 28,
    late_rate: float | None = None,
) -> pl.DataFrame:
    """Return visit → signup → purchase events; ``plant`` overrides a channel's two rates;
    ``late_rate`` is signup's rate for units entering in the last week."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(len(CHANNELS), n)
    start = rng.integers(0, days * 86400, n)
    p1 = np.full(n, rates[0])
    p2 = np.full(n, rates[1])
    for name, (a, b) in (plant or {}).items():
        idx = CHANNELS.index(name)
        p1[channel == idx], p2[channel == idx] = a, b
    if late_rate is not None:
        p1[start >= (days - 7) * 86400] = late_rate
    s1 = rng.random(n) < p1
    s2 = s1 & (rng.random(n) < p2)
    users = np.array([f"u{i}" for i in range(n)])
    base = pl.DataFrame({"user_id": users, "channel": np.array(CHANNELS)[channel], "t": start})
    visit = base.with_columns(pl.lit("visit").alias("event"))
    signup = base.filter(pl.Series(s1)).with_columns(
        pl.lit("signup").alias("event"), pl.col("t") + 600
    )
    buy = base.filter(pl.Series(s2)).with_columns(
        pl.lit("purchase").alias("event"), pl.col("t") + 3600
    )
    frame = pl.concat([visit, signup, buy]).with_columns(
        (pl.lit(START) + pl.duration(seconds=pl.col("t"))).alias("timestamp")
    )
    return frame.select("user_id", "event", "timestamp", "channel")


MAP = """\
id: plant
name: Planted
stages:
  - {id: visit, name: Visit, events: [visit]}
  - {id: signup, name: Signup, events: [signup]}
  - {id: purchase, name: Purchase, events: [purchase]}
segments: [channel]
settings: {window: 7d, period: week}
"""


def _diagnose(tmp_path: Path, frame: pl.DataFrame, **kw: Any) -> Any:
    path = tmp_path / "events.parquet"
    frame.write_parquet(path)
    model = tmp_path / "map.yaml"
    model.write_text(MAP, encoding="utf-8")
    return api.diagnose([str(path)], api.DiagnoseOptions(model=str(model), **kw))


def test_planted_segment_is_the_first_ranked_finding(tmp_path: Path) -> None:
    frame = _log(1, 4000, plant={"social": (0.5, 0.2)})
    report = _diagnose(tmp_path, frame)
    ranked = [f for f in report.findings if f.kind != "drop"]
    first = ranked[0]
    assert (first.kind, first.segment, first.stage["id"]) == (
        "segment",
        {"column": "channel", "value": "social"},
        "purchase",
    )
    assert first.impact_units < 0
    assert first.p_value is not None
    assert first.p_value < 0.001
    assert "social" in first.statement
    assert "units lost at Purchase" in first.statement
    assert {f.kind for f in report.findings} >= {"drop", "segment"}


def test_planted_change_between_periods_is_found(tmp_path: Path) -> None:
    # Signup falls from 50% to 25% for units entering in the last week of four; the data runs
    # on past it so that week is complete (window 7 d).
    frame = _log(2, 6000, late_rate=0.25, days=28)
    extra = pl.DataFrame(
        {
            "user_id": ["z"],
            "event": ["visit"],
            "timestamp": [START + timedelta(days=36)],
            "channel": ["ads"],
        }
    ).with_columns(pl.col("timestamp").dt.cast_time_unit("us"))
    report = _diagnose(
        tmp_path,
        pl.concat([frame, extra.select(frame.columns)], how="vertical_relaxed"),
        compare="previous",
    )
    changes = [f for f in report.findings if f.kind == "change"]
    assert changes, [f.statement for f in report.findings]
    assert changes[0].stage["id"] == "signup"
    assert changes[0].value < changes[0].baseline
    assert report.settings["compared"]["now"]["since"].startswith("2025-03-24")


def _journeys(seed: int, n: int = 1500, k: int = 5) -> pl.DataFrame:
    """A journey table without plants: k segments, the same rates for all."""
    rng = np.random.default_rng(seed)
    signed = rng.random(n) < 0.5
    level = 1 + signed + (signed & (rng.random(n) < 0.5))
    return pl.DataFrame(
        {
            "unit": np.arange(n),
            "level": level.astype(np.int32),
            "excluded": np.zeros(n, dtype=bool),
            "t_1": np.zeros(n, dtype=np.int64),
            "t_2": np.zeros(n, dtype=np.int64),
            "t_3": np.zeros(n, dtype=np.int64),
            "seg": rng.choice([f"s{i}" for i in range(k)], n),
        }
    )


SPEC = FunnelSpec(steps=tuple(Step(s, (Matcher(s),)) for s in STEPS), by=("seg",))


def test_no_plant_gives_no_significant_segment_in_95_of_100_seeds() -> None:
    # False-discovery control: BH over every (segment, step) test of the report.
    clean = 0
    for seed in range(100):
        _, cells, _ = segment_report(_journeys(seed), SPEC, None, {})
        mark_significant(cells, 0.05)
        clean += not any(c and c["significant"] for c in cells)
    assert clean >= 95


def test_no_plant_diagnose_has_no_segment_findings(tmp_path: Path) -> None:
    report = _diagnose(tmp_path, _log(7, 3000))
    assert not [f for f in report.findings if f.kind == "segment"]


@given(st.integers(0, 10_000), st.integers(1, 6))
def test_segments_add_up_and_top_n_plus_other_is_the_population(seed: int, top: int) -> None:
    units = _journeys(seed, n=300, k=8)
    report, _, folded = segment_report(units, SPEC, top, {})
    for k in range(3):
        assert sum(g.steps[k].count for g in report.groups) == report.steps[k].count
    assert len(report.groups) <= top + 1
    kept = [g for g in report.groups if g.value != "(other)"]
    other = [g for g in report.groups if g.value == "(other)"]
    assert folded is not None
    assert sum(g.steps[0].count for g in kept) + folded.units == report.steps[0].count
    assert sum(g.steps[0].count for g in other) == folded.units


def test_comparing_a_period_with_itself_shows_no_change(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _log(3, 1500).write_parquet(path)
    doc = _funnel(
        str(path),
        steps=("visit", "signup", "purchase"),
        since="2025-03-03",
        until="2025-03-16",
        compare="2025-03-03..2025-03-16",
    )
    for s in doc["steps"][1:]:
        for key in ("conversion_from_previous", "conversion_from_start"):
            c = s["change"][key]
            assert c["diff"] == 0
            assert not c["significant"]
            assert c["p_value"] == pytest.approx(1.0)
    assert doc["compare"]["steps"] == [
        {k: v for k, v in s.items() if k != "change"} for s in doc["steps"]
    ]


def test_output_does_not_depend_on_row_order(tmp_path: Path) -> None:
    frame = _log(4, 1200, plant={"ads": (0.3, 0.5)})
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    frame.write_parquet(a)
    frame.sample(fraction=1.0, shuffle=True, seed=9).write_parquet(b)
    kw: dict[str, Any] = {
        "by": ("channel",),
        "compare": "previous",
        "trend": "week",
        "correlate": "events",
    }
    one = _funnel(str(a), steps=("visit", "signup", "purchase"), **kw)
    two = _funnel(str(b), steps=("visit", "signup", "purchase"), **kw)
    one.pop("source")
    two.pop("source")
    assert one == two


def test_vs_rest_contract(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _log(5, 800).write_parquet(path)
    doc = _funnel(str(path), steps=("visit", "signup", "purchase"), by=("channel",), top=2)
    group = doc["breakdown"]["groups"][0]
    assert "vs_rest" not in group["steps"][0]
    vr = group["steps"][1]["vs_rest"]
    assert set(vr) == {
        "rate",
        "rest_rate",
        "diff",
        "p_value",
        "test",
        "significant",
        "impact_units",
    }
    assert vr["rate"] == group["steps"][1]["conversion_from_previous"]
    assert vr["test"] in ("z", "fisher")
    assert doc["breakdown_other"]["top"] == 2
    assert [g["value"] for g in doc["breakdown"]["groups"]].count("(other)") == 1


# --- CLI -----------------------------------------------------------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "events.parquet"
    _log(6, 3000, plant={"email": (0.5, 0.2)}).write_parquet(path)
    model = tmp_path / "map.yaml"
    model.write_text(MAP, encoding="utf-8")
    return str(path), str(model)


def test_diagnose_json_contract(runner: CliRunner, shop: tuple[str, str]) -> None:
    result = runner.invoke(app, ["diagnose", shop[0], "--model", shop[1], "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["schema_version"], doc["kind"]) == (1, "diagnose")
    assert doc["findings"]
    keys = [
        "kind",
        "stage",
        "segment",
        "event",
        "metric",
        "value",
        "baseline",
        "p_value",
        "impact_units",
        "statement",
    ]
    for f in doc["findings"]:
        assert list(f) == keys
        assert f["kind"] in ("drop", "segment", "change", "slowdown", "correlation", "target")
        assert set(f["stage"]) >= {"id", "index"}
    impacts = [abs(f["impact_units"]) for f in doc["findings"] if f["impact_units"] is not None]
    assert impacts == sorted(impacts, reverse=True)


@pytest.mark.parametrize("fmt", ["table", "markdown", "github", "csv"])
def test_diagnose_formats(runner: CliRunner, shop: tuple[str, str], fmt: str) -> None:
    result = runner.invoke(app, ["diagnose", shop[0], "--model", shop[1], "--format", fmt])
    assert result.exit_code == 0, result.stderr
    assert "email" in result.stdout
    if fmt == "github":
        assert result.stdout.startswith(("::warning", "::notice"))
    if fmt == "markdown":
        assert result.stdout.startswith("## Journey diagnosis")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alpha", "2"], "--alpha"),
        (["--compare", "lastweek"], "--compare"),
        (["--limit", "0"], "--limit"),
        (["--top", "0"], "--top"),
    ],
)
def test_diagnose_bad_flags_exit_2(
    runner: CliRunner, shop: tuple[str, str], args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["diagnose", shop[0], "--model", shop[1], *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_funnel_insight_table(runner: CliRunner, shop: tuple[str, str]) -> None:
    result = runner.invoke(
        app,
        [
            "funnel",
            shop[0],
            "--model",
            shop[1],
            "--by",
            "channel",
            "--compare",
            "previous",
            "--trend",
            "week",
            "--ttc-from",
            "1",
            "--ttc-to",
            "3",
        ],
    )
    assert result.exit_code == 0, result.stderr
    for text in ("against the rest", "Change against", "Trend by entry period", "Time to convert"):
        assert text in result.stdout
    assert "pts" in result.stdout


def test_metrics_compare_period_with_itself(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _log(8, 1200).write_parquet(path)
    model = tmp_path / "map.yaml"
    model.write_text(MAP, encoding="utf-8")
    report = api.metrics(
        [str(path)],
        api.MetricsOptions(
            model=str(model),
            since="2025-03-03",
            until="2025-03-16",
            compare="2025-03-03..2025-03-16",
        ),
    )
    block = report.to_dict()["compare"]
    assert [s["id"] for s in block["stages"]] == ["visit", "signup", "purchase"]
    for s in block["stages"]:
        assert s["then"] == s["now"]
        assert s["now"]["count"] == report.stage(s["id"]).numbers.count  # type: ignore[union-attr]
        for key in ("conversion_from_previous", "conversion_from_start"):
            c = s["change"][key]
            assert c is None or (c["diff"] == 0 and not c["significant"])


def test_failing_target_is_a_finding_even_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _log(9, 1500, plant={"ads": (0.2, 0.5)}).write_parquet(path)
    model = tmp_path / "map.yaml"
    model.write_text(
        MAP + "targets:\n  - {metric: signup.conversion_from_previous, min: 0.9}\n",
        encoding="utf-8",
    )
    report = api.diagnose([str(path)], api.DiagnoseOptions(model=str(model), limit=1))
    targets = [f for f in report.findings if f.kind == "target"]
    assert len(targets) == 1
    assert targets[0].metric == "signup.conversion_from_previous"
    assert targets[0].baseline == 0.9
    assert targets[0].value is not None
    assert targets[0].value < 0.9
    assert "fails" in targets[0].statement
    assert report.findings[0].kind == "drop"


def test_retention_compare_of_a_range_with_itself(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    _log(10, 1500).write_parquet(path)
    options = api.RetentionOptions(
        start_event="visit",
        return_event="signup",
        period="day",
        periods=3,
        since="2025-03-03",
        until="2025-03-16",
        compare="2025-03-03..2025-03-16",
    )
    block = api.retention([str(path)], options).to_dict()["compare"]
    assert block["then_cohorts"] == block["now_cohorts"]
    assert len(block["now_cohorts"]) == 14
    for row in block["periods"]:
        assert row["then"] == row["now"]
        assert row["change"] is None or (
            row["change"]["diff"] == 0 and not row["change"]["significant"]
        )
