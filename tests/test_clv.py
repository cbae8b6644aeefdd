"""CLV: the RFM summary, BG/NBD, Gamma-Gamma, CLV, RFM segments and the holdout check.

Three ways: hand-computed values on tiny logs; lifetimes 0.11.3's numbers on the CDNOW sample
(recorded once by tests/data/clv/make_lifetimes_fixtures.py, provenance in the file) and the
published BG/NBD parameters (Fader, Hardie & Lee 2005); hypothesis properties.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from budget import budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cjkit.api.clv import ClvOptions, clv, parse_span
from cjkit.engine.clv import bgnbd, gamma_gamma, rfm, value
from cjkit.engine.clv import summary as summary_mod
from cjkit.errors import InputError, UsageError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "examples" / "cdnow" / "sample.parquet")
FIXTURE = json.loads((ROOT / "tests" / "data" / "clv" / "lifetimes_cdnow_sample.json").read_text())
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _published(params: dict[str, float]) -> dict[str, float]:
    """Round to the published precision (three decimals; three or four significant digits)."""
    return {k: round(v, 3) for k, v in params.items()}


def _log(rows: list[tuple[str, str, float]], path: Path) -> str:
    frame = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "event": ["purchase"] * len(rows),
            "timestamp": [datetime.fromisoformat(r[1]).replace(tzinfo=UTC) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )
    frame.write_parquet(path)
    return str(path)


@pytest.fixture(scope="module")
def sample_run() -> object:
    return clv(
        [SAMPLE],
        ClvOptions(
            purchase_event="purchase",
            amount="amount",
            observation_end="1997-09-30",
            horizon="12mo",
            discount=0.01,
            top=5,
        ),
    )


# --- hand-computed --------------------------------------------------------------------------


def test_summary_by_hand(tmp_path: Path) -> None:
    # u1 buys on 1 Jan (twice: one day), 8 Jan and 22 Jan; observation ends 29 Jan.
    # frequency 2; recency 21 days = 3 weeks; T 28 days = 4 weeks;
    # monetary = mean of the repeat days' totals = (30 + 50) / 2 = 40 (the first day's 10+5 left out).
    # u2 buys once on 15 Jan: frequency 0, recency 0, T 2 weeks, monetary 0.
    path = _log(
        [
            ("u1", "2025-01-01T09:00:00", 10.0),
            ("u1", "2025-01-01T18:00:00", 5.0),
            ("u1", "2025-01-08T10:00:00", 30.0),
            ("u1", "2025-01-22T10:00:00", 50.0),
            ("u2", "2025-01-15T10:00:00", 7.0),
        ],
        tmp_path / "e.parquet",
    )
    spec = summary_mod.SummarySpec(tz="UTC", observation_end=date(2025, 1, 29))
    events = pl.scan_parquet(path).select(
        pl.col("user_id").alias("unit"), pl.col("timestamp").alias("ts"), "amount"
    )
    got = summary_mod.summarise(summary_mod.daily(events, spec), spec).collect().sort("unit")
    assert got.select("unit", "frequency", "recency", "T", "monetary_value", "revenue").rows() == [
        ("u1", 2, 3.0, 4.0, 40.0, 95.0),
        ("u2", 0, 0.0, 2.0, 0.0, 7.0),
    ]
    with_first = summary_mod.SummarySpec(
        tz="UTC", observation_end=date(2025, 1, 29), include_first=True
    )
    got = summary_mod.summarise(summary_mod.daily(events, with_first), with_first).collect()
    assert got.sort("unit")["monetary_value"].to_list() == [95.0 / 3, 7.0]


def _ll_reference(
    r: float, alpha: float, a: float, b: float, x: int, t_x: float, T: float
) -> float:
    """FHL (2005) eq. 6, written out with math.lgamma for one unit."""

    def lbeta(p: float, q: float) -> float:
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    head = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    first = math.exp(lbeta(a, b + x) - lbeta(a, b) - (r + x) * math.log(alpha + T))
    second = 0.0
    if x > 0:
        second = math.exp(lbeta(a + 1, b + x - 1) - lbeta(a, b) - (r + x) * math.log(alpha + t_x))
    return head + math.log(first + second)


def test_bgnbd_likelihood_against_a_plain_python_reference() -> None:
    rows = [(0, 0.0, 10.0), (1, 3.5, 12.0), (4, 20.0, 30.0), (2, 1.0, 1.5)]
    params = np.array([0.5, 3.0, 0.8, 2.5])
    data = bgnbd.Summary(
        x=np.array([r[0] for r in rows], float),
        t_x=np.array([r[1] for r in rows]),
        T=np.array([r[2] for r in rows]),
        weight=np.ones(len(rows)),
    )
    total, grad = bgnbd.log_likelihood(params, data)
    assert total == pytest.approx(sum(_ll_reference(*params, *row) for row in rows), rel=1e-12)
    for i in range(4):  # the analytic gradient equals central differences
        step = np.zeros(4)
        step[i] = 1e-6
        numeric = (
            bgnbd.log_likelihood(params + step, data)[0]
            - bgnbd.log_likelihood(params - step, data)[0]
        ) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-5)


def test_gamma_gamma_gradient_matches_central_differences() -> None:
    x = np.array([1.0, 2.0, 5.0])
    m = np.array([10.0, 25.0, 40.0])
    w = np.array([1.0, 2.0, 1.0])
    params = np.array([6.0, 3.5, 15.0])
    _, grad = gamma_gamma.log_likelihood(params, x, m, w)
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (
            gamma_gamma.log_likelihood(params + step, x, m, w)[0]
            - gamma_gamma.log_likelihood(params - step, x, m, w)[0]
        ) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-5)


def test_prob_alive_by_hand() -> None:
    # x = 0: a unit that never repeated cannot have dropped out in BG/NBD, so P(alive) = 1.
    # x = 1, t_x = 2, T = 4 with r=1, α=2, a=1, b=1: odds = a/(b+x-1) ((α+T)/(α+t_x))^(r+x)
    # = 1 * (6/4)^2 = 2.25, so P(alive) = 1/3.25.
    params = {"r": 1.0, "alpha": 2.0, "a": 1.0, "b": 1.0}
    got = bgnbd.prob_alive(params, np.array([0.0, 1.0]), np.array([0.0, 2.0]), np.array([4.0, 4.0]))
    assert got.tolist() == pytest.approx([1.0, 1 / 3.25])


def test_clv_by_hand_with_a_flat_expectation() -> None:
    # With discount 0 and one month, CLV = order value x expected purchases in one month.
    params = {"r": 0.5, "alpha": 3.0, "a": 1.5, "b": 2.0}
    x, t_x, T = np.array([2.0]), np.array([5.0]), np.array([10.0])
    one_month = bgnbd.expected_purchases(params, 4.345, x, t_x, T)
    got = value.clv(params, x, t_x, T, np.array([20.0]), months=1, time_unit="week", discount=0.0)
    assert got[0] == pytest.approx(20.0 * one_month[0])
    half = value.clv(
        params, x, t_x, T, np.array([20.0]), months=1, time_unit="week", discount=0.0, margin=0.5
    )
    assert half[0] == pytest.approx(got[0] / 2)


def test_spans() -> None:
    assert parse_span("horizon", "12mo") == (365.25, 12)
    assert parse_span("horizon", "1y") == (365.25, 12)
    assert parse_span("holdout", "39w")[0] == 273
    assert parse_span("holdout", "90d")[0] == 90
    with pytest.raises(UsageError, match="horizon: expected a span"):
        parse_span("horizon", "soon")


# --- the peers: lifetimes 0.11.3 and the published figures ------------------------------------


def test_bgnbd_reproduces_the_published_cdnow_parameters(sample_run: object) -> None:
    params = sample_run.report.params["bg_nbd"]  # type: ignore[attr-defined]
    assert _published(params) == PUBLISHED
    for name, expected in FIXTURE["bg_nbd"].items():
        assert params[name] == pytest.approx(expected, rel=1e-5)
    fit = sample_run.report.fit["bg_nbd"]  # type: ignore[attr-defined]
    assert fit["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)  # CLVTools' value


def test_gamma_gamma_matches_lifetimes(sample_run: object) -> None:
    params = sample_run.report.params["gamma_gamma"]  # type: ignore[attr-defined]
    for name, expected in FIXTURE["gamma_gamma"].items():
        assert params[name] == pytest.approx(expected, rel=1e-5)
    assert sample_run.report.fit["gamma_gamma"]["units"] == FIXTURE["repeat_buyers"]  # type: ignore[attr-defined]


def test_per_unit_predictions_match_lifetimes(sample_run: object) -> None:
    units = sample_run.units  # type: ignore[attr-defined]
    assert units.height == FIXTURE["units"]
    by_unit = {row["unit"]: row for row in units.iter_rows(named=True)}
    horizon = clv(
        [SAMPLE],
        ClvOptions(
            purchase_event="purchase", amount="amount", observation_end="1997-09-30", horizon="39w"
        ),
    ).units
    expected_39 = dict(horizon.select("unit", "expected_purchases").iter_rows())
    for unit, want in FIXTURE["units_detail"].items():
        got = by_unit[unit]
        for name in ("frequency", "recency", "T", "monetary_value"):
            assert got[name] == pytest.approx(want[name], rel=1e-9), (unit, name)
        assert got["prob_alive"] == pytest.approx(want["prob_alive"], rel=1e-5)
        assert got["expected_avg_value"] == pytest.approx(want["expected_avg_value"], rel=1e-5)
        assert got["clv"] == pytest.approx(want["clv_12m"], rel=1e-4)
        assert expected_39[unit] == pytest.approx(want["expected_purchases_39"], rel=1e-5)


def test_holdout_fits_the_calibration_period() -> None:
    run = clv(
        [SAMPLE],
        ClvOptions(
            purchase_event="purchase", amount="amount", observation_end="1998-06-30", holdout="39w"
        ),
    )
    holdout = run.report.holdout
    assert holdout is not None
    assert holdout.calibration_end == "1997-09-30"
    assert _published(holdout.params) == PUBLISHED
    assert holdout.actual == FIXTURE["holdout_total_actual"] == 1882
    assert holdout.duration == FIXTURE["holdout_duration"] == 39
    assert sum(b["units"] for b in holdout.buckets) == holdout.units == 2357
    assert sum(b["actual"] for b in holdout.buckets) == holdout.actual


# --- RFM segments -----------------------------------------------------------------------------


def test_rfm_grid_covers_every_cell_with_the_eleven_segments() -> None:
    cells = [name for row in rfm.GRID for name in row]
    assert len(cells) == 25
    assert set(cells) == set(rfm.SEGMENTS)
    assert len(rfm.SEGMENTS) == 11


def test_rfm_scores_by_hand() -> None:
    frame = pl.DataFrame(
        {
            "unit": [f"u{i}" for i in range(10)],
            "days_since_last": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "purchase_days": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
            "mean_day_value": [100.0] * 10,  # all tied: one shared score
        }
    )
    got = rfm.scores(frame.lazy()).collect()
    assert got["r_score"].to_list() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert got["f_score"].to_list() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert got["m_score"].n_unique() == 1
    # u0: R 5, F 5, M 3 -> FM (5+3)//2 = 4 -> champions; u9: R 1, FM (1+3)//2 = 2 -> hibernating
    assert got["rfm_segment"][0] == "champions"
    assert got["rfm_segment"][9] == "hibernating"


def test_segments_add_up(sample_run: object) -> None:
    report = sample_run.report  # type: ignore[attr-defined]
    assert sum(s["units"] for s in report.segments) == report.totals["units"]
    shares = [s["revenue_share"] for s in report.segments if s["revenue_share"] is not None]
    assert sum(shares) == pytest.approx(1.0)


# --- bad input ----------------------------------------------------------------------------------


def test_no_purchases_is_an_error(tmp_path: Path) -> None:
    path = _log([("u1", "2025-01-01T00:00:00", 1.0)], tmp_path / "e.parquet")
    with pytest.raises(InputError, match=r"no purchase events \(buy\)"):
        clv([path], ClvOptions(purchase_event="buy", amount="amount"))


def test_one_purchase_day_everywhere_cannot_be_fitted(tmp_path: Path) -> None:
    path = _log(
        [("u1", "2025-01-01T00:00:00", 1.0), ("u2", "2025-01-03T00:00:00", 2.0)],
        tmp_path / "e.parquet",
    )
    with pytest.raises(InputError, match="bought on one day only"):
        clv([path], ClvOptions(purchase_event="purchase", amount="amount"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ClvOptions(purchase_event="purchase", horizon="3d"), "shorter than one week"),
        (ClvOptions(purchase_event="purchase", discount=1.5), "discount"),
        (ClvOptions(purchase_event="purchase", margin=0), "margin"),
        (ClvOptions(purchase_event="purchase", time_unit="hour"), "time unit"),
        (ClvOptions(), "clv needs the purchases"),
        (ClvOptions(purchase_event="purchase", observation_end="June"), "observation end"),
    ],
)
def test_bad_options(options: ClvOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        clv([SAMPLE], options)


def test_non_positive_amounts_are_counted_and_left_out(sample_run: object) -> None:
    events = pl.read_parquet(SAMPLE).filter(
        (pl.col("event") == "purchase") & (pl.col("timestamp") <= datetime(1997, 9, 30, tzinfo=UTC))
    )
    non_positive = events.filter(pl.col("amount") <= 0).height
    days = events.group_by("user_id", pl.col("timestamp").dt.date()).agg(pl.col("amount").sum())
    per_unit = (
        days.sort("timestamp")
        .group_by("user_id")
        .agg((pl.len() - 1).alias("x"), pl.col("amount").slice(1).sum().alias("repeat_total"))
    )
    excluded = per_unit.filter((pl.col("x") > 0) & (pl.col("repeat_total") <= 0)).height
    report = sample_run.report  # type: ignore[attr-defined]
    warnings = " ".join(report.warnings)
    assert non_positive > 0
    assert f"{non_positive} purchase event(s) have a zero or negative amount" in warnings
    if excluded:
        assert f"{excluded} repeat buyer(s) with a zero or negative mean" in warnings
    repeaters = per_unit.filter(pl.col("x") > 0).height
    assert report.fit["gamma_gamma"]["units"] == repeaters - excluded == FIXTURE["repeat_buyers"]


def test_missing_scipy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "scipy" else real(name, *a)
    )
    with pytest.raises(UsageError, match="needs scipy") as info:
        clv([SAMPLE], ClvOptions(purchase_event="purchase"))
    assert info.value.hint == "pip install 'cjkit[stats]'"


# --- properties -----------------------------------------------------------------------------

_day = st.integers(min_value=0, max_value=60)
_row = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]), _day, st.floats(1, 100).map(lambda v: round(v, 2))
)


@settings(max_examples=budget(0.4))
@given(rows=st.lists(_row, min_size=1, max_size=30), seed=st.randoms())
def test_summary_is_independent_of_row_order_and_bounded(rows: list, seed: object) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "unit": [r[0] for r in rows],
            "ts": [start + timedelta(days=r[1], hours=3) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )
    spec = summary_mod.SummarySpec(tz="UTC", observation_end=date(2025, 3, 15))
    shuffled = list(range(len(rows)))
    seed.shuffle(shuffled)  # type: ignore[attr-defined]

    def run(f: pl.DataFrame) -> pl.DataFrame:
        return summary_mod.summarise(summary_mod.daily(f.lazy(), spec), spec).collect().sort("unit")

    a, b = run(frame), run(frame[shuffled])
    assert a.equals(b)
    assert (a["recency"] <= a["T"]).all()
    assert (a["frequency"] >= 0).all()
    distinct_days = frame.group_by("unit").agg(pl.col("ts").dt.date().n_unique().alias("n"))
    merged = a.join(distinct_days, on="unit")
    assert (merged["frequency"] == merged["n"] - 1).all()


@settings(max_examples=budget(0.4))
@given(
    x=st.integers(0, 30),
    t_x=st.floats(0, 50),
    extra=st.floats(0, 50),
    horizon=st.floats(0.5, 100),
)
def test_predictions_are_bounded(x: int, t_x: float, extra: float, horizon: float) -> None:
    params = FIXTURE["bg_nbd"]
    t_x = t_x if x > 0 else 0.0
    xs, txs, Ts = np.array([float(x)]), np.array([t_x]), np.array([t_x + extra + 0.1])
    alive = bgnbd.prob_alive(params, xs, txs, Ts)[0]
    assert 0.0 <= alive <= 1.0
    short = bgnbd.expected_purchases(params, horizon, xs, txs, Ts)[0]
    longer = bgnbd.expected_purchases(params, horizon * 2, xs, txs, Ts)[0]
    assert 0.0 <= short <= longer


# --- the command ------------------------------------------------------------------------------


def test_cli_json_and_units_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cjkit.cli import main

    units = tmp_path / "units.csv"
    args = [
        "clv", SAMPLE, "--purchase-event", "purchase", "--amount", "amount",
        "--observation-end", "1998-06-30", "--holdout", "39w", "--format", "json",
        "--units", str(units), "--top", "3",
    ]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["kind"] == "clv"
    assert set(doc["params"]) == {"bg_nbd", "gamma_gamma"}
    assert _published(doc["holdout"]["params"]["bg_nbd"]) == PUBLISHED
    assert len(doc["top"]) == 3
    assert "zero or negative amount" in captured.err
    table = pl.read_csv(units, schema_overrides={"unit": pl.String})
    assert table.columns == [
        "unit", "frequency", "recency", "T", "monetary_value", "expected_purchases",
        "prob_alive", "expected_avg_value", "clv", "rfm_segment",
    ]  # fmt: skip
    assert table.height == 2357


def test_cli_table_prints_the_conventions(capsys: pytest.CaptureFixture[str]) -> None:
    from cjkit.cli import main

    assert main(["clv", SAMPLE, "--purchase-event", "purchase", "--amount", "amount"]) == 0
    out = capsys.readouterr().out
    assert "BG/NBD r" in out
    assert "Conventions: frequency = purchase days - 1" in out
    assert "RFM segments" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--purchase-event", "purchse"], "no purchase events (purchse)"),
        (["--purchase-event", "purchase", "--horizon", "soon"], "horizon: expected a span"),
        (["--purchase-event", "purchase", "--holdout", "2x"], "holdout: expected a span"),
        (["--purchase-event", "purchase", "--amount", "cds2"], "no column 'cds2'"),
        (["--purchase-event", "purchase", "--amount", "event"], "expected numbers"),
        (["--purchase-event", "purchase", "--time-unit", "hour"], "time unit"),
        (["--model", "nosuch"], "nosuch"),
        (["--purchase-event", "purchase", "--discount", "2"], "discount"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from cjkit.cli import main

    assert main(["clv", SAMPLE, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
