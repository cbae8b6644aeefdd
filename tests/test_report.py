"""``cjkit report`` without a browser: its views, its translations, its JSON, its CLI.

The views (conversion by entry period, time-to-convert histograms) are checked by hand, against
a plain-Python reference on random journey tables, and by properties; the report's sections are
checked against the separate commands that compute the same numbers (metrics, lifecycle,
stickiness), so one shared scan gives what separate scans give.
"""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from conftest import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st

from cjkit import api
from cjkit.cli import main
from cjkit.engine import periods as per
from cjkit.engine.report import views
from cjkit.render.html import i18n

SHOP = str(EXAMPLES / "shop" / "events.parquet")
DAY_US = 86_400 * 1_000_000


def _journeys(rows: list[tuple[int, list[int | None]]], n: int) -> pl.LazyFrame:
    """Return a journey table: ``(level, [t_1..t_n] in seconds)`` per unit."""
    data: dict[str, list[object]] = {
        "unit": list(range(len(rows))),
        "level": [r[0] for r in rows],
        "excluded": [False] * len(rows),
    }
    for k in range(1, n + 1):
        data[f"t_{k}"] = [None if r[1][k - 1] is None else r[1][k - 1] * 1_000_000 for r in rows]
    schema = {"unit": pl.Int64, "level": pl.Int64, "excluded": pl.Boolean}
    schema |= {f"t_{k}": pl.Int64 for k in range(1, n + 1)}
    return pl.DataFrame(data, schema=schema).lazy()


# --- time-to-convert histograms -------------------------------------------------------------


def test_histogram_by_hand() -> None:
    # Unit 0: 30 s then 2 h; unit 1: 10 min then stops; unit 2: stops at step 1.
    table = _journeys([(3, [0, 30, 30 + 7200]), (2, [0, 600, None]), (1, [0, None, None])], 3)
    hist = views.ttc_histograms(table, 3)
    step2 = {r["lo_s"]: r["units"] for r in hist.filter(pl.col("step") == 2).iter_rows(named=True)}
    step3 = {r["lo_s"]: r["units"] for r in hist.filter(pl.col("step") == 3).iter_rows(named=True)}
    assert step2[0] == 1  # 30 s in [0, 1m)
    assert step2[300] == 1  # 10 min in [5m, 15m)
    assert sum(step2.values()) == 2
    assert step3[3600] == 1  # 2 h in [1h, 3h)
    assert sum(step3.values()) == 1


def _bin_of(seconds: float) -> int:
    edges = views.EDGES
    return max(i for i, e in enumerate(edges) if seconds >= e)


journey_rows = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.lists(st.integers(0, 40 * 86_400), min_size=2, max_size=2),
        st.integers(0, 400 * 86_400),
    ),
    max_size=30,
)


def _table(raw: list[tuple[int, list[int], int]]) -> list[tuple[int, list[int | None]]]:
    rows: list[tuple[int, list[int | None]]] = []
    for level, gaps, start in raw:
        times: list[int | None] = [start]
        for k in range(1, 3):
            times.append(times[-1] + gaps[k - 1] if k < level and times[-1] is not None else None)
        rows.append((level, times))
    return rows


@given(journey_rows)
def test_histogram_matches_reference(raw: list[tuple[int, list[int], int]]) -> None:
    rows = _table(raw)
    hist = views.ttc_histograms(_journeys(rows, 3), 3)
    for k in (2, 3):
        expected = [0] * len(views.EDGES)
        for level, times in rows:
            if level >= k:
                t_k, t_prev = times[k - 1], times[k - 2]
                assert t_k is not None
                assert t_prev is not None
                expected[_bin_of(t_k - t_prev)] += 1
        got = hist.filter(pl.col("step") == k).sort("lo_s")["units"].to_list()
        assert got == expected
        # Every unit that reached step k is in exactly one bin.
        assert sum(got) == sum(1 for level, _ in rows if level >= k)


# --- conversion by entry period ---------------------------------------------------------------


def test_trends_by_hand() -> None:
    monday = int(datetime(2025, 1, 6, tzinfo=UTC).timestamp())
    rows = [
        (2, [monday, monday + 60]),
        (1, [monday + 3600, None]),
        (2, [monday + 8 * 86_400, monday + 9 * 86_400]),
    ]
    end = datetime(2025, 1, 31, tzinfo=UTC)
    out = views.trends(
        _journeys(rows, 2),
        2,
        period="week",
        tz="UTC",
        week_start="monday",
        window_s=14 * 86_400,
        data_end=end,
    )
    assert out["period"].cast(pl.String).to_list() == ["2025-01-06", "2025-01-13"]
    assert out["entered"].to_list() == [2, 1]
    assert out["reached_2"].to_list() == [1, 1]
    # Week of 13 Jan ends 20 Jan; + 14 days = 3 Feb, after the data's end: incomplete.
    assert out["complete"].to_list() == [True, False]


@given(journey_rows, st.sampled_from(["day", "week", "month"]))
def test_trends_match_reference(raw: list[tuple[int, list[int], int]], period: str) -> None:
    rows = _table(raw)
    base = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    rows = [(lv, [None if t is None else t + base for t in times]) for lv, times in rows]
    out = views.trends(
        _journeys(rows, 3),
        3,
        period=period,
        tz="UTC",  # type: ignore[arg-type]
        week_start="monday",
        window_s=86_400,
        data_end=None,
    )
    expected: dict[int, list[int]] = {}
    for level, times in rows:
        assert times[0] is not None
        p = per.index_of(datetime.fromtimestamp(times[0], UTC), period, "UTC")  # type: ignore[arg-type]
        counts = expected.setdefault(p, [0, 0, 0, 0])
        counts[0] += 1
        for k in range(1, level + 1):
            counts[k] += 1
    got = {
        per.index_of(
            datetime.combine(r["period"], datetime.min.time(), UTC), period, "UTC"
        ):  # type: ignore[arg-type]
        [r["entered"], r["reached_1"], r["reached_2"], r["reached_3"]]
        for r in out.iter_rows(named=True)
    }
    assert got == expected
    for counts in got.values():  # a funnel: entered = reached_1 ≥ reached_2 ≥ reached_3
        assert counts[0] == counts[1] >= counts[2] >= counts[3]


# --- translations -------------------------------------------------------------------------


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("lang", i18n.languages())
def test_every_language_has_every_phrase(lang: str) -> None:
    words = i18n.WORDS[lang]
    assert set(words) == set(i18n.EN), set(i18n.EN) ^ set(words)
    for key, text in i18n.EN.items():
        assert _fields(words[key]) == _fields(text), key
        assert words[key].strip(), key


def test_vietnamese_numbers_and_durations() -> None:
    vi, en = i18n.Words("vi"), i18n.Words("en")
    assert vi.whole(1234567) == "1.234.567"
    assert en.whole(1234567) == "1,234,567"
    assert vi.pct(0.1876) == "18,8%"
    assert vi.num(1234.5) == "1.234,50"
    assert en.duration(3 * 86_400 + 4 * 3600) == "3d 4h"
    assert vi.duration(90) == "2 phút"
    assert vi.separators == ",."


def test_unknown_language_is_a_usage_error() -> None:
    with pytest.raises(Exception, match="--lang: expected one of en, vi"):
        i18n.Words("xx")


# --- the report against the commands that compute the same numbers ---------------------------


@pytest.fixture(scope="module")
def shop_report() -> api.ReportOptions:
    return api.report([SHOP], api.ReportOptions(model="aarrr", diagnose=False, paths=False))


def test_report_sections_equal_separate_runs(shop_report) -> None:  # type: ignore[no-untyped-def]
    doc = shop_report.to_dict()
    metrics = api.metrics([SHOP], api.MetricsOptions(model="aarrr")).to_dict()
    assert doc["stages"] == metrics["stages"]
    assert doc["retention"] == metrics["retention"]
    life = api.lifecycle([SHOP], api.ActivityOptions(period="week")).to_dict()
    stick = api.stickiness([SHOP], api.ActivityOptions(period="week")).to_dict()
    assert doc["lifecycle"]["periods"] == life["periods"]
    assert doc["stickiness"]["counts"] == stick["counts"]
    assert doc["stickiness"]["avg_active_periods"] == stick["avg_active_periods"]


def test_report_views_agree_with_the_funnel(shop_report) -> None:  # type: ignore[no-untyped-def]
    doc = shop_report.to_dict()
    stages = doc["stages"]
    trend = doc["conversion_by_entry_period"]["periods"]
    for k, stage in enumerate(stages):
        assert sum(p["reached"][k] for p in trend) == stage["count"]
    for h in doc["time_to_convert_bins"]:
        assert sum(b["units"] for b in h["bins"]) == stages[h["step"] - 1]["count"]
    assert doc["labels"] == {s["id"]: s["name"] for s in stages}


def test_vietnamese_labels_come_from_the_model() -> None:
    labels = api.report.__globals__["stage_labels"]("aarrr", "vi")
    assert labels["acquisition"] == "Thu hút"
    assert labels["revenue"] == "Doanh thu"


# --- CLI ----------------------------------------------------------------------------------


def test_cli_json_is_the_report_document(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.json"
    code = main(
        [
            "report",
            SHOP,
            "--model",
            "aarrr",
            "--format",
            "json",
            "-o",
            str(out),
            "--no-findings",
            "--no-paths",
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["kind"] == "report"
    assert doc["command"].startswith("cjkit ")
    assert doc["cjkit_version"]


def test_cli_bad_language_is_one_line_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        ["report", SHOP, "--model", "aarrr", "--lang", "xx", "-o", str(tmp_path / "r.html")]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "--lang" in err
    assert not (tmp_path / "r.html").exists()


def test_missing_extra_names_the_extra(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a)
    )
    code = main(["report", SHOP, "--model", "aarrr", "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "pip install 'cjkit[report]'" in err
    assert not (tmp_path / "r.html").exists()


def test_html_is_self_contained(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    assert main(["report", SHOP, "--model", "aarrr", "-o", str(out), "--no-findings"]) == 0
    html = out.read_text(encoding="utf-8")
    assert len(html.encode()) < 6_000_000
    # The page's own markup refers to nothing outside the file (plotly.js's code mentions
    # its web site in strings it never loads; the browser test watches the requests).
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "@import" not in markup
    assert html.count("Plotly.newPlot") == 1  # the one drawing loop
    assert html.count("<script>") == 2  # plotly.js once, the page's script once
    assert "default-src 'none'" in html


def test_meta_says_when() -> None:
    # The report's meta says when it was made, in UTC, to the second.
    r = api.report([SHOP], api.ReportOptions(model="aarrr", diagnose=False, paths=False))
    made = datetime.fromisoformat(r.meta["generated_at"])
    assert abs(made - datetime.now(UTC)) < timedelta(minutes=5)
