"""The HTML report drawn by a real browser: headless Chromium from Debian, networking off.

For each page: every chart has drawn (plotly finished and the SVG holds marks), there is no
console error and no network request, the numbers in the page's tables and tiles equal the JSON
of the same run (and the separate ``cjkit metrics --format json``), and a screenshot is written.
In CI (``CI`` set) a missing chromium fails these tests; elsewhere it skips them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import chromium
import pytest
from conftest import EXAMPLES

from cjkit.cli import main

pytestmark = pytest.mark.browser

SHOP = str(EXAMPLES / "shop" / "events.parquet")
SHOP_MAP = str(EXAMPLES / "shop" / "map.yaml")
CDNOW = str(EXAMPLES / "cdnow" / "events.parquet")
CDNOW_MAP = str(EXAMPLES / "cdnow" / "map.yaml")
SHOTS = Path(os.environ.get("CJKIT_SCREENSHOTS", Path(__file__).parent / ".results" / "report"))


@pytest.fixture(scope="module", autouse=True)
def _browser() -> None:
    if chromium.executable() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")


def _build(tmp: Path, name: str, args: list[str]) -> tuple[Path, dict[str, Any], chromium.PageRun]:
    page = tmp / f"{name}.html"
    assert main([*args, "-o", str(page)]) == 0
    run = chromium.load(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"{name}.png").write_bytes(run.screenshot)
    return page, run.result, run


def _check_drawn(result: dict[str, Any], run: chromium.PageRun) -> None:
    assert run.requests == [], run.requests
    assert run.errors == [], run.errors
    charts = result["charts"]
    assert charts, "no chart on the page"
    assert result["ready"] == str(len(charts))
    for c in charts:
        assert c["drawn"], c["id"]
        assert c["svg"] >= 1, c["id"]
        assert c["marks"] > 0, f"{c['id']} drew no marks"
    assert run.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(run.screenshot) > 50_000


def _table(result: dict[str, Any], key: str) -> list[list[dict[str, Any]]]:
    found = [t for t in result["tables"] if t["key"] == key]
    assert found, f"no table {key}"
    return found[0]["rows"]


def _num(cell: dict[str, Any]) -> float | None:
    return None if cell["value"] in (None, "None") else float(cell["value"])


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], chromium.PageRun]:
    tmp = tmp_path_factory.mktemp("shop")
    _, result, run = _build(tmp, "shop-aarrr", ["report", SHOP, "--model", "aarrr"])
    return result, run


def test_every_chart_draws_offline(shop) -> None:  # type: ignore[no-untyped-def]
    result, run = shop
    _check_drawn(result, run)
    ids = {c["id"] for c in result["charts"]}
    for wanted in (
        "funnel-chart",
        "trends-chart",
        "ttc-chart",
        "lifecycle-chart",
        "stickiness-chart",
        "retention-retention-heatmap",
        "revenue-money",
    ):
        assert wanted in ids


def test_page_numbers_equal_the_json(shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result, _ = shop
    doc = result["embedded"]
    assert doc["kind"] == "report"
    # The same numbers from the separate metrics command.
    out = tmp_path / "m.json"
    assert main(["metrics", SHOP, "--model", "aarrr", "--format", "json", "-o", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert [s["count"] for s in doc["stages"]] == [s["count"] for s in metrics["stages"]]
    rows = _table(result, "funnel")
    for row, stage in zip(rows, metrics["stages"], strict=True):
        assert row[0]["text"] == stage["name"]
        assert _num(row[1]) == stage["count"]
        assert _num(row[2]) == stage["conversion_from_start"]
        assert _num(row[4]) == stage["conversion_from_previous"]
        assert _num(row[6]) == stage["drop_off"]
        ttc = stage["time_to_convert"]
        assert _num(row[7]) == (ttc["median_s"] if ttc else None)
    # Headline tiles: every data-value is the stage metric of the same name.
    by_id = {s["id"]: s for s in metrics["stages"]}
    tiles = [k for k in result["kpis"] if "." in k["key"]]
    assert tiles
    for k in tiles:
        stage_id, name = k["key"].split(".", 1)
        value = by_id[stage_id]["metrics"][name]
        assert (None if k["value"] is None else float(k["value"])) == value, k
    # Retention cohorts, lifecycle, stickiness, trend and histograms against the embedded JSON.
    cohorts = _table(result, "retention-retention:cohorts")
    for row, cohort in zip(cohorts, doc["retention"]["cohorts"], strict=True):
        assert row[0]["text"] == cohort["cohort"]
        assert _num(row[1]) == cohort["size"]
        for k, cell in enumerate(row[2:], start=1):
            assert _num(cell) == cohort["rates"][k]
    for row, p in zip(_table(result, "lifecycle"), doc["lifecycle"]["periods"], strict=True):
        assert [_num(c) for c in row[1:5]] == [
            p["new"],
            p["returning"],
            p["resurrecting"],
            p["dormant"],
        ]
    for row, c in zip(_table(result, "stickiness"), doc["stickiness"]["counts"], strict=True):
        assert _num(row[1]) == c["units"]
    for row, p in zip(
        _table(result, "trend"), doc["conversion_by_entry_period"]["periods"], strict=True
    ):
        assert row[0]["text"] == p["period"]
        assert _num(row[1]) == p["entered"]
    hist = _table(result, "ttc")
    for j, row in enumerate(hist):
        for h, cell in zip(doc["time_to_convert_bins"], row[1:], strict=True):
            assert _num(cell) == h["bins"][j]["units"]


def test_vietnamese_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, result, run = _build(
        tmp_path, "shop-map-vi", ["report", SHOP, "--model", SHOP_MAP, "--lang", "vi"]
    )
    _check_drawn(result, run)
    assert result["lang"] == "vi"
    names = [row[0]["text"] for row in _table(result, "funnel")]
    assert names == ["Thu hút", "Kích hoạt", "Giữ chân", "Giới thiệu", "Doanh thu"]
    doc = result["embedded"]
    assert _num(_table(result, "funnel")[1][1]) == doc["stages"][1]["count"]
    # The segments heatmaps of the map's segments are there.
    assert {"segments-channel", "segments-persona"} <= {c["id"] for c in result["charts"]}


def test_cdnow_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, result, run = _build(tmp_path, "cdnow", ["report", CDNOW, "--model", CDNOW_MAP])
    _check_drawn(result, run)
    doc = result["embedded"]
    rows = _table(result, "funnel")
    assert [_num(r[1]) for r in rows] == [s["count"] for s in doc["stages"]]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("funnel", ["funnel", SHOP, "--model", "aarrr"]),
        ("retention", ["retention", SHOP, "--start-event", "signup", "--return-event", "visit"]),
        ("lifecycle", ["lifecycle", SHOP]),
        ("stickiness", ["stickiness", SHOP, "--period", "week"]),
        ("paths", ["paths", SHOP, "--steps", "4"]),
    ],
)
def test_one_analysis_pages(tmp_path, name: str, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / f"{name}.html"
    assert main([*args, "--format", "html", "-o", str(page)]) == 0
    run = chromium.load(page, screenshot=name == "funnel")
    assert run.requests == []
    assert run.errors == []
    charts = run.result["charts"]
    assert charts
    assert all(c["drawn"] and c["marks"] > 0 for c in charts), charts
    out = tmp_path / f"{name}.json"
    assert main([*args, "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    if name == "funnel":
        rows = _table(run.result, "funnel")
        assert [_num(r[1]) for r in rows] == [s["count"] for s in doc["steps"]]
    elif name == "lifecycle":
        rows = _table(run.result, "lifecycle")
        assert [_num(r[1]) for r in rows] == [p["new"] for p in doc["periods"]]
    elif name == "stickiness":
        rows = _table(run.result, "stickiness")
        assert [_num(r[1]) for r in rows] == [c["units"] for c in doc["counts"]]
    elif name == "retention":
        rows = _table(run.result, "retention:cohorts")
        assert [_num(r[1]) for r in rows] == [c["size"] for c in doc["cohorts"]]
    else:
        rows = _table(run.result, "paths")
        assert sorted(_num(r[2]) for r in rows) == sorted(link["value"] for link in doc["links"])
