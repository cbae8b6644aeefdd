"""Retention: hand-computed cohort tables, churn, periods, and a DuckDB differential test.

Weeks below are Monday weeks in UTC unless a test says otherwise:
W0 = 2025-01-06, W1 = 2025-01-13, W2 = 2025-01-20, W3 = 2025-01-27.
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from budget import budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cjkit.engine import periods as per
from cjkit.engine.cohorts.retention import (
    MASK_PERIODS,
    RetentionSpec,
    pack,
    retention_query,
    retention_report,
    unpack,
)
from cjkit.engine.matchers import Matcher
from cjkit.report.cohorts import RetentionReport
from cjkit.timerange import parse_range

Row = tuple[Any, str, str] | tuple[Any, str, str, dict[str, Any]]


def events(rows: list[Row]) -> pl.LazyFrame:
    """Return canonical events from (user, event, ISO time[, properties]) tuples."""
    props = sorted({k for r in rows if len(r) > 3 for k in r[3]})
    data: dict[str, list[Any]] = {
        "user_id": [r[0] for r in rows],
        "event": [r[1] for r in rows],
        "timestamp": [datetime.fromisoformat(r[2]).astimezone(UTC) for r in rows],
    }
    for k in props:
        data[k] = [r[3].get(k) if len(r) > 3 else None for r in rows]
    return pl.LazyFrame(data, schema_overrides={"timestamp": pl.Datetime("us", "UTC")})


def run(rows: list[Row] | pl.LazyFrame, **kw: Any) -> RetentionReport:
    spec = RetentionSpec(**kw)
    frame = rows if isinstance(rows, pl.LazyFrame) else events(rows)
    frames = unpack(pack(retention_query(frame, spec)).collect())
    return retention_report(frames, spec, {"periods": spec.periods, "period": spec.period})


def table(report: RetentionReport) -> dict[str, list[int]]:
    return {c.cohort: c.counts for c in report.cohorts}


def since(text: str, tz: str = "UTC") -> datetime:
    moment = parse_range(text, None, tz).since
    assert moment is not None
    return moment


def until(text: str, tz: str = "UTC") -> datetime:
    moment = parse_range(None, text, tz).until
    assert moment is not None
    return moment


SIGNUP = (Matcher("signup"),)

# a: W0 (twice), W1, W3; b: W0, W2; c: W1, W2, W3 (the data ends mid-W3); d: W2.
MAIN: list[Row] = [
    ("a", "open", "2025-01-06T09:00:00+00:00"),
    ("a", "open", "2025-01-07T09:00:00+00:00"),
    ("a", "open", "2025-01-14T09:00:00+00:00"),
    ("a", "open", "2025-01-28T09:00:00+00:00"),
    ("b", "open", "2025-01-07T10:00:00+00:00"),
    ("b", "open", "2025-01-21T10:00:00+00:00"),
    ("c", "open", "2025-01-15T10:00:00+00:00"),
    ("c", "open", "2025-01-22T10:00:00+00:00"),
    ("c", "open", "2025-01-29T12:00:00+00:00"),
    ("d", "open", "2025-01-20T10:00:00+00:00"),
]


# --- hand-computed tables -------------------------------------------------------------------


def test_recurring_cohorts_by_hand() -> None:
    report = run(MAIN, periods=3)
    assert table(report) == {
        "2025-01-06": [2, 1, 1, 1],  # {a, b}: a in W1, b in W2, a in W3
        "2025-01-13": [2, 1, 2, 0],  # {a, c}: c in W2, a and c in W3
        "2025-01-20": [3, 1, 0, 0],  # {b, c, d}: c in W3
        "2025-01-27": [2, 0, 0, 0],  # {a, c}
    }
    first = report.cohorts[0]
    assert first.rates == [1.0, 0.5, 0.5, 0.5]
    # The data ends on Wednesday of W3: W3 is not complete.
    assert [c.complete for c in report.cohorts] == [
        [True, True, True, False],
        [True, True, False, False],
        [True, False, False, False],
        [False, False, False, False],
    ]


def test_average_uses_complete_periods_only() -> None:
    avg = run(MAIN, periods=3).average
    # k=1 pools W0 and W1 (W2's period 1 is the incomplete W3): (1 + 1) / (2 + 2).
    assert avg.sizes == [7, 4, 2, 0]
    assert avg.counts == [7, 2, 1, 0]
    assert avg.rates == [1.0, 0.5, 0.5, None]
    assert avg.ci[3] is None
    assert avg.ci[1] is not None
    assert avg.ci[1]["low"] < 0.5 < avg.ci[1]["high"]


def test_until_declares_the_observation_end() -> None:
    # A bare --until date covers its whole day; Sunday 2025-02-02 closes W3.
    report = run(MAIN, periods=3, until=until("2025-02-02"))
    assert report.cohorts[0].complete == [True, True, True, True]
    assert report.average.rates[3] == 0.5
    assert report.settings["observed_until"].startswith("2025-02-02T23:59:59.999999")
    # --until mid-week: cohorts after it are gone, and W2 (the until week) is incomplete.
    short = run(MAIN, periods=3, until=until("2025-01-21"))
    assert list(table(short)) == ["2025-01-06", "2025-01-13", "2025-01-20"]
    assert table(short)["2025-01-06"] == [2, 1, 1, 0]  # returns after --until don't count
    assert short.cohorts[0].complete == [True, True, False, False]


def test_cumulative_is_on_or_after() -> None:
    report = run(MAIN, periods=3, cumulative=True)
    assert table(report) == {
        "2025-01-06": [2, 2, 2, 1],  # last returns: a W3, b W2
        "2025-01-13": [2, 2, 2, 0],  # a W3, c W3
        "2025-01-20": [3, 1, 0, 0],  # only c reaches W3
        "2025-01-27": [2, 0, 0, 0],
    }


# b signed up the week before W0 too; d never signs up.
FIRST: list[Row] = [
    ("a", "signup", "2025-01-06T08:00:00+00:00"),
    ("a", "open", "2025-01-14T08:00:00+00:00"),
    ("a", "open", "2025-01-21T08:00:00+00:00"),
    ("b", "signup", "2024-12-31T08:00:00+00:00"),
    ("b", "signup", "2025-01-07T08:00:00+00:00"),
    ("b", "open", "2025-01-14T08:00:00+00:00"),
    ("c", "signup", "2025-01-14T08:00:00+00:00"),
    ("c", "signup", "2025-01-21T08:00:00+00:00"),
    ("c", "open", "2025-01-28T08:00:00+00:00"),
    ("d", "open", "2025-01-08T08:00:00+00:00"),
]


def test_first_time_cohorts_and_empty_periods() -> None:
    report = run(FIRST, start=SIGNUP, periods=3, cohort="first-time")
    assert table(report) == {
        "2024-12-30": [1, 1, 1, 0],  # b: back in W0 (its signup counts as an event) and W1
        "2025-01-06": [1, 1, 1, 0],  # a
        "2025-01-13": [1, 1, 1, 0],  # c (its second signup is a return, not a cohort)
        "2025-01-20": [0, 0, 0, 0],  # nobody signed up for the first time: an empty period
        "2025-01-27": [0, 0, 0, 0],
    }
    empty = report.cohorts[3]
    assert empty.size == 0
    assert empty.rates == [None, None, None, None]
    assert empty.ci == [None, None, None, None]


def test_since_drops_first_time_units_that_started_before() -> None:
    report = run(FIRST, start=SIGNUP, periods=2, cohort="first-time", since=since("2025-01-06"))
    # b's first signup is in the week before --since: b is in no cohort, not even W0's.
    assert table(report)["2025-01-06"] == [1, 1, 1]
    assert next(iter(table(report))) == "2025-01-06"
    recurring = run(FIRST, start=SIGNUP, periods=2, since=since("2025-01-06"))
    assert table(recurring)["2025-01-06"] == [2, 2, 1]  # a and b both signed up in W0
    assert table(recurring)["2025-01-20"] == [1, 1, 0]  # c's second signup opens a row


def test_since_is_widened_to_its_period() -> None:
    # --since on a Wednesday still starts at the cohort of that whole week.
    a = run(MAIN, periods=2, since=since("2025-01-08"))
    b = run(MAIN, periods=2, since=since("2025-01-06"))
    assert a.to_dict()["cohorts"] == b.to_dict()["cohorts"]
    assert a.cohorts[0].cohort == "2025-01-06"


def test_start_and_return_events_differ() -> None:
    rows: list[Row] = [
        ("a", "signup", "2025-01-06T08:00:00+00:00"),
        ("a", "open", "2025-01-06T09:00:00+00:00"),
        ("a", "purchase", "2025-01-20T08:00:00+00:00"),
        ("b", "signup", "2025-01-07T08:00:00+00:00"),
        ("b", "purchase", "2025-01-14T08:00:00+00:00"),
        ("c", "purchase", "2025-01-15T08:00:00+00:00"),
    ]
    report = run(rows, start=SIGNUP, returns=(Matcher("purchase"),), periods=2)
    assert table(report) == {
        "2025-01-06": [2, 1, 1],  # b buys in W1, a in W2 (a's open is no return)
        "2025-01-13": [0, 0, 0],
        "2025-01-20": [0, 0, 0],
    }
    # Churn and usage follow the return event: purchases.
    periods = {p.period: p for p in report.periods}
    assert periods["2025-01-13"].active == 2
    assert periods["2025-01-20"].retained == 0
    assert periods["2025-01-20"].lost == 2


def test_week_start_sunday() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-12T10:00:00+00:00"),  # a Sunday
        ("a", "open", "2025-01-13T10:00:00+00:00"),  # the Monday after
    ]
    monday = run(rows, periods=1)
    assert table(monday) == {"2025-01-06": [1, 1], "2025-01-13": [1, 0]}
    sunday = run(rows, periods=1, week_start="sunday")
    assert table(sunday) == {"2025-01-12": [1, 0]}


def test_time_zone_moves_an_event_to_the_next_week() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-08T10:00:00+00:00"),
        ("a", "open", "2025-01-12T23:30:00+00:00"),  # Sunday in UTC, Monday 00:30 in Paris
    ]
    assert table(run(rows, periods=1)) == {"2025-01-06": [1, 0]}
    assert table(run(rows, periods=1, tz="Europe/Paris")) == {
        "2025-01-06": [1, 1],
        "2025-01-13": [1, 0],
    }


def test_month_and_quarter_periods() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-31T10:00:00+00:00"),
        ("a", "open", "2025-02-01T10:00:00+00:00"),
        ("a", "open", "2025-04-01T10:00:00+00:00"),
        ("b", "open", "2025-03-15T10:00:00+00:00"),
    ]
    months = table(run(rows, period="month", periods=3))
    assert months["2025-01-01"] == [1, 1, 0, 1]
    assert months["2025-03-01"] == [1, 0, 0, 0]
    quarters = table(run(rows, period="quarter", periods=1))
    assert quarters == {"2025-01-01": [2, 1], "2025-04-01": [1, 0]}


def test_churn_and_usage_per_period() -> None:
    report = run(MAIN, periods=2)
    got = [
        (p.period, p.active, p.new, p.retained, p.lost, p.churn_rate, p.events_per_active_unit)
        for p in report.periods
    ]
    assert got == [
        ("2025-01-06", 2, 2, 0, 0, None, 1.5),  # a has two events in W0
        ("2025-01-13", 2, 1, 1, 1, 0.5, 1.0),  # a stays, b leaves, c arrives
        ("2025-01-20", 3, 2, 1, 1, 0.5, 1.0),  # c stays, a leaves, b and d (back) arrive
        ("2025-01-27", 2, 1, 1, 2, 2 / 3, 1.0),  # c stays, b and d leave, a is back
    ]
    assert [p.complete for p in report.periods] == [True, True, True, False]
    # The summary pools complete periods: (0 + 1 + 1) lost of (0 + 2 + 2) at their starts.
    assert report.summary["churn_rate"] == 0.5
    assert report.summary["events_per_active_unit"] == (3 + 2 + 3) / (2 + 2 + 3)
    assert report.periods[0].churn_ci is None


def test_breakdown_uses_the_first_start_event_of_the_period() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-06T09:00:00+00:00", {"ch": "x"}),
        ("a", "open", "2025-01-06T10:00:00+00:00", {"ch": "y"}),
        ("a", "open", "2025-01-13T10:00:00+00:00", {"ch": "y"}),
        # Two first events at the same instant: the smaller value wins, whatever the row order.
        ("b", "open", "2025-01-07T10:00:00+00:00", {"ch": "y"}),
        ("b", "open", "2025-01-07T10:00:00+00:00", {"ch": "x"}),
        ("c", "open", "2025-01-08T10:00:00+00:00", {"ch": None}),
        ("c", "open", "2025-01-14T10:00:00+00:00", {"ch": "x"}),
    ]
    report = run(rows, periods=1, by=("ch",))
    groups = {g.value: table_of(g.cohorts) for g in report.groups}
    assert groups == {
        "x": {"2025-01-06": [2, 1], "2025-01-13": [1, 0]},  # a, b in W0; c in W1
        "y": {"2025-01-06": [0, 0], "2025-01-13": [1, 0]},  # a in W1
        None: {"2025-01-06": [1, 1], "2025-01-13": [0, 0]},  # c in W0
    }
    assert [g.value for g in report.groups] == ["x", "y", None]  # sorted, nulls last
    assert report.to_dict()["breakdown"]["by"] == ["ch"]


def test_breakdown_by_two_properties() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-06T09:00:00+00:00", {"ch": "x", "co": "vn"}),
        ("b", "open", "2025-01-06T09:00:00+00:00", {"ch": "x", "co": "fr"}),
        ("b", "open", "2025-01-13T09:00:00+00:00", {"ch": "x", "co": "fr"}),
    ]
    report = run(rows, periods=1, by=("ch", "co"))
    assert [(g.value, g.cohorts[0].counts) for g in report.groups] == [
        (["x", "fr"], [1, 1]),
        (["x", "vn"], [1, 0]),
    ]


def table_of(cohorts: list[Any]) -> dict[str, list[int]]:
    return {c.cohort: c.counts for c in cohorts}


def test_no_events_match() -> None:
    report = run(MAIN, start=SIGNUP, periods=2)
    assert report.cohorts == []
    assert report.average.rates == [None, None, None]
    assert len(report.periods) == 4  # activity (any event) still has its periods


def test_report_dict_and_rows() -> None:
    report = run(MAIN, periods=1)
    doc = report.to_dict()
    assert doc["kind"] == "retention"
    assert set(doc) >= {"schema_version", "settings", "cohorts", "average", "periods"}
    assert doc["breakdown"] is None
    assert doc["cohorts"][0] == {
        "cohort": "2025-01-06",
        "size": 2,
        "counts": [2, 1],
        "rates": [1.0, 0.5],
        "complete": [True, True],
        "ci": doc["cohorts"][0]["ci"],
    }
    rows = report.to_rows()
    assert rows[0] == {
        "segment": "(all)",
        "cohort": "2025-01-06",
        "period": 0,
        "size": 2,
        "count": 2,
        "rate": 1.0,
        "complete": True,
    }
    assert rows[-1]["cohort"] == "average"


# --- periods -----------------------------------------------------------------------------


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Ho_Chi_Minh", "Australia/Lord_Howe"]


@settings(max_examples=budget(0.6), deadline=None)
@given(
    st.lists(st.integers(-(10**15), 4 * 10**15), min_size=1, max_size=30),
    st.sampled_from(per.PERIODS),
    st.sampled_from(ZONES),
    st.sampled_from(per.WEEK_STARTS),
)
def test_period_index_agrees_with_truncation(
    micros: list[int], period: per.Period, tz: str, week_start: per.WeekStart
) -> None:
    frame = pl.DataFrame({"t": micros}).select(
        pl.from_epoch("t", time_unit="us").dt.replace_time_zone("UTC").alias("t")
    )
    got = frame.select(
        per.period_start(pl.col("t"), period, tz, week_start).alias("start"),
        per.period_index(pl.col("t"), period, tz, week_start).alias("i"),
    ).with_columns(per.index_start(pl.col("i"), period, week_start).alias("back"))
    assert got["start"].to_list() == got["back"].to_list()
    moments = frame["t"].to_list()
    assert got["i"].to_list() == [per.index_of(m, period, tz, week_start) for m in moments]
    assert [per.start_date(i, period, week_start) for i in got["i"].to_list()] == got[
        "start"
    ].to_list()
    # Consecutive indices are consecutive periods.
    diff = got.select(
        per.period_diff(
            per.index_start(pl.col("i") + 1, period, week_start), pl.col("start"), period
        )
    )
    assert set(diff.to_series().to_list()) == {1}


def test_period_start_in_a_zone_with_dst() -> None:
    # 2025-03-30 01:30 UTC is 03:30 in Paris, the day the clocks go forward.
    t = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert (
        per.index_of(t, "day", "Europe/Paris")
        == (datetime(2025, 3, 30) - datetime(1970, 1, 1)).days
    )
    assert per.start_of(per.index_of(t, "day", "Europe/Paris"), "day", "Europe/Paris") == datetime(
        2025, 3, 29, 23, 0, tzinfo=UTC
    )
    assert per.start_of(per.index_of(t, "week", "UTC"), "week", "UTC") == datetime(
        2025, 3, 24, tzinfo=UTC
    )


# --- invariants ------------------------------------------------------------------------------

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def random_frame(rng: random.Random, n: int, users: int, days: int) -> pl.LazyFrame:
    rows = [
        (
            rng.randrange(users),
            rng.choice(["a", "b", "c"]),
            T0 + timedelta(seconds=rng.randrange(days * 86400)),
            rng.choice(["x", "y", None]),
        )
        for _ in range(n)
    ]
    return pl.LazyFrame(
        rows,
        schema={
            "user_id": pl.Int64,
            "event": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "ch": pl.String,
        },
        orient="row",
    )


@settings(max_examples=budget(0.4), deadline=None)
@given(
    seed=st.integers(0, 10**6),
    cohort=st.sampled_from(["recurring", "first-time"]),
    cumulative=st.booleans(),
    period=st.sampled_from(["day", "week"]),
)
def test_invariants(seed: int, cohort: str, cumulative: bool, period: per.Period) -> None:
    rng = random.Random(seed)
    frame = random_frame(rng, rng.randrange(1, 120), rng.randrange(1, 15), rng.randrange(1, 60))
    kw: dict[str, Any] = {
        "start": (Matcher("a"), Matcher("b")),
        "returns": None if rng.random() < 0.5 else (Matcher("c"),),
        "period": period,
        "periods": rng.randrange(1, 10),
        "cohort": cohort,
        "cumulative": cumulative,
        "by": ("ch",),
    }
    report = run(frame, **kw)
    for c in report.cohorts:
        assert c.counts[0] == c.size
        assert all(0 <= x <= c.size for x in c.counts)
        if cumulative:
            assert c.counts == sorted(c.counts, reverse=True)
    # Breakdown groups add up to the overall table, cohort by cohort.
    for i, c in enumerate(report.cohorts):
        summed = [sum(g.cohorts[i].counts[k] for g in report.groups) for k in range(len(c.counts))]
        assert summed == c.counts
    assert sum(g.average.sizes[1] for g in report.groups) == report.average.sizes[1]
    for p in report.periods:
        assert p.active == p.new + p.retained
    # Row order never matters.
    shuffled = frame.collect().sample(fraction=1.0, shuffle=True, seed=seed).lazy()
    assert run(shuffled, **kw).to_dict() == report.to_dict()


@pytest.mark.parametrize("cohort", ["recurring", "first-time"])
def test_long_horizons_use_the_range_join_and_agree(cohort: str) -> None:
    rng = random.Random(7)
    frame = random_frame(rng, 400, 20, 40)
    n = MASK_PERIODS + 6
    kw: dict[str, Any] = {"start": (Matcher("a"), Matcher("b")), "period": "day", "cohort": cohort}
    long = run(frame, periods=n, **kw)
    short = run(frame, periods=MASK_PERIODS, **kw)
    for a, b in zip(long.cohorts, short.cohorts, strict=True):
        assert a.counts[: MASK_PERIODS + 1] == b.counts
    assert without_ci(long.to_dict()["cohorts"]) == duck_table(frame, "day", n, cohort, False)


# --- DuckDB differential -------------------------------------------------------------------

PERIOD_SQL = {
    "day": "date_diff('day', DATE '1970-01-01', ts::DATE)",
    "week": "(date_diff('day', DATE '1970-01-05', ts::DATE) // 7)",
    "month": "(year(ts) * 12 + month(ts) - 1)",
}


def duck_events(frame: pl.LazyFrame) -> duckdb.DuckDBPyConnection:
    """Return a DuckDB connection with the events as table ``ev`` (``ts`` naive UTC)."""
    folder = Path(tempfile.mkdtemp(prefix="cjkit-duck-"))
    path = folder / "ev.parquet"
    frame.with_columns(pl.col("timestamp").dt.replace_time_zone(None).alias("ts")).select(
        "user_id", "event", "ts"
    ).collect().write_parquet(path)
    con = duckdb.connect()
    con.sql(f"CREATE TABLE ev AS SELECT * FROM read_parquet('{path}')")
    path.unlink()
    folder.rmdir()
    return con


def duck_cells(
    frame: pl.LazyFrame, period: str, n: int, cohort: str, cumulative: bool
) -> list[tuple[int, list[int]]]:
    """Return [(cohort period, [size, n1..nN])] computed independently in DuckDB SQL.

    Start events are 'a' or 'b'; any event is a return. Timestamps are UTC.
    """
    con = duck_events(frame)
    p = PERIOD_SQL[period]
    if cohort == "recurring":
        cohorts = f"SELECT DISTINCT user_id, {p} AS c FROM ev WHERE event IN ('a', 'b')"
    else:
        cohorts = (
            f"SELECT user_id, min({p}) AS c FROM ev WHERE event IN ('a', 'b') GROUP BY user_id"
        )
    if cumulative:
        cells = ", ".join(f"count(*) FILTER (WHERE last >= c + {k})" for k in range(1, n + 1))
        sql = f"""
            WITH cohorts AS ({cohorts}),
                 last AS (SELECT user_id, max({p}) AS last FROM ev GROUP BY user_id)
            SELECT c, count(*), {cells}
            FROM cohorts JOIN last USING (user_id) GROUP BY c ORDER BY c"""
    else:
        cells = ", ".join(
            f"count(DISTINCT CASE WHEN r.p = c.c + {k} THEN c.user_id END)" for k in range(1, n + 1)
        )
        sql = f"""
            WITH cohorts AS ({cohorts}),
                 returns AS (SELECT DISTINCT user_id, {p} AS p FROM ev)
            SELECT c.c, count(DISTINCT c.user_id), {cells}
            FROM cohorts c LEFT JOIN returns r
              ON r.user_id = c.user_id AND r.p BETWEEN c.c + 1 AND c.c + {n}
            GROUP BY c.c ORDER BY c.c"""
    return [(int(r[0]), [int(x) for x in r[1:]]) for r in con.sql(sql).fetchall()]


def duck_table(
    frame: pl.LazyFrame, period: str, n: int, cohort: str, cumulative: bool
) -> list[dict[str, Any]]:
    """Return the expected ``cohorts`` list: every period from the first cohort to the data's
    last period, sizes and counts from DuckDB, rates and completeness recomputed here."""
    cells = dict(duck_cells(frame, period, n, cohort, cumulative))
    df = frame.collect()
    last = df["timestamp"].max()
    assert isinstance(last, datetime)
    end = per.index_of(last + timedelta(microseconds=1), period, "UTC")  # type: ignore[arg-type]
    hi = per.index_of(last, period, "UTC")  # type: ignore[arg-type]
    out = []
    for c in range(min(cells), hi + 1):
        counts = cells.get(c, [0] * (n + 1))
        size = counts[0]
        out.append(
            {
                "cohort": per.start_date(c, period).isoformat(),  # type: ignore[arg-type]
                "size": size,
                "counts": counts,
                "rates": [x / size if size else None for x in counts],
                "complete": [c + k < end for k in range(n + 1)],
            }
        )
    return out


def without_ci(cohorts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "ci"} for c in cohorts]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("cohort", "cumulative"),
    [("recurring", False), ("first-time", False), ("recurring", True), ("first-time", True)],
)
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_matches_duckdb(seed: int, cohort: str, cumulative: bool, period: str) -> None:
    rng = random.Random(seed * 31 + len(period))
    frame = random_frame(rng, rng.randrange(50, 600), rng.randrange(3, 60), rng.randrange(20, 200))
    n = rng.choice([1, 4, 8, 12])
    report = run(
        frame,
        start=(Matcher("a"), Matcher("b")),
        period=period,
        periods=n,
        cohort=cohort,
        cumulative=cumulative,
    )
    expected = duck_table(frame, period, n, cohort, cumulative)
    assert without_ci(report.to_dict()["cohorts"]) == expected
    # The average curve pools the complete cells of the same table.
    for k in range(n + 1):
        done = [c for c in expected if c["complete"][k]]
        sizes = sum(c["size"] for c in done)
        counts = sum(c["counts"][k] for c in done)
        assert report.average.sizes[k] == sizes
        assert report.average.rates[k] == (counts / sizes if sizes else None)


def test_churn_matches_duckdb() -> None:
    frame = random_frame(random.Random(3), 800, 40, 120)
    report = run(frame, period="week", periods=2)
    con = duck_events(frame)
    p = PERIOD_SQL["week"]
    rows = con.sql(
        f"""
        WITH act AS (SELECT user_id, {p} AS p, count(*) AS n FROM ev GROUP BY ALL),
             span AS (SELECT range AS p FROM range((SELECT min(p) FROM act),
                                                    (SELECT max(p) FROM act) + 1))
        SELECT span.p,
               (SELECT count(*) FROM act a WHERE a.p = span.p),
               (SELECT count(*) FROM act a WHERE a.p = span.p - 1
                   AND NOT EXISTS (SELECT 1 FROM act b WHERE b.user_id = a.user_id
                                   AND b.p = span.p)),
               (SELECT count(*) FROM act a WHERE a.p = span.p
                   AND EXISTS (SELECT 1 FROM act b WHERE b.user_id = a.user_id
                               AND b.p = span.p - 1)),
               (SELECT coalesce(sum(n), 0) FROM act a WHERE a.p = span.p)
        FROM span ORDER BY span.p
        """
    ).fetchall()
    got = [(p.active, p.lost, p.retained, p.events) for p in report.periods]
    assert got == [tuple(int(x) for x in r[1:]) for r in rows]
