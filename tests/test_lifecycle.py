"""Lifecycle and stickiness: hand-computed periods, identities, and a DuckDB differential test.

Weeks are Monday weeks in UTC: W0 = 2025-01-06, W1 = 2025-01-13, W2 = 2025-01-20, W3 = 2025-01-27.
"""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest
from budget import budget
from hypothesis import given, settings
from hypothesis import strategies as st
from test_retention import (
    MAIN,
    PERIOD_SQL,
    Row,
    duck_events,
    events,
    random_frame,
    since,
    until,
)

from cjkit.engine import periods as per
from cjkit.engine.cohorts.lifecycle import (
    ActivitySpec,
    lifecycle_query,
    lifecycle_report,
    stickiness_query,
    stickiness_report,
)
from cjkit.engine.cohorts.retention import pack, unpack
from cjkit.engine.matchers import Matcher
from cjkit.report.cohorts import LifecycleReport, StickinessReport


def lifecycle(rows: list[Row] | Any, **kw: Any) -> LifecycleReport:
    spec = ActivitySpec(**kw)
    frame = events(rows) if isinstance(rows, list) else rows
    return lifecycle_report(unpack(pack(lifecycle_query(frame, spec)).collect()), spec, {})


def stickiness(rows: list[Row] | Any, **kw: Any) -> StickinessReport:
    spec = ActivitySpec(**kw)
    frame = events(rows) if isinstance(rows, list) else rows
    return stickiness_report(unpack(pack(stickiness_query(frame, spec)).collect()), spec, {})


def states(report: LifecycleReport) -> list[tuple[str, int, int, int, int]]:
    return [(p.period, p.new, p.returning, p.resurrecting, p.dormant) for p in report.periods]


def test_lifecycle_all_four_states_by_hand() -> None:
    # a: W0 W1 W3; b: W0 W2; c: W1 W2 W3; d: W2.
    assert states(lifecycle(MAIN)) == [
        ("2025-01-06", 2, 0, 0, 0),  # a, b new
        ("2025-01-13", 1, 1, 0, -1),  # c new, a returning, b dormant
        ("2025-01-20", 1, 1, 1, -1),  # d new, c returning, b resurrecting, a dormant
        ("2025-01-27", 0, 1, 1, -2),  # c returning, a resurrecting, b and d dormant
    ]
    assert [p.complete for p in lifecycle(MAIN).periods] == [True, True, True, False]


def test_since_keeps_the_full_history_for_new_and_previous() -> None:
    report = lifecycle(MAIN, since=since("2025-01-13"), until=until("2025-01-26"))
    # W1: a was active in W0 (before --since) so it is returning; b is dormant.
    assert states(report) == [
        ("2025-01-13", 1, 1, 0, -1),
        ("2025-01-20", 1, 1, 1, -1),
    ]
    assert all(p.complete for p in report.periods)


def test_new_basis() -> None:
    rows: list[Row] = [
        ("e", "signup", "2025-01-06T10:00:00+00:00"),
        ("e", "open", "2025-01-20T10:00:00+00:00"),
        ("f", "open", "2025-01-06T10:00:00+00:00"),
        ("f", "open", "2025-01-13T10:00:00+00:00"),
    ]
    opens = (Matcher("open"),)
    by_event = states(lifecycle(rows, event=opens))
    by_any = states(lifecycle(rows, event=opens, new_basis="first-any-event"))
    # e's first open is in W2: new by its first open, resurrecting by its first event (W0).
    assert by_event[2] == ("2025-01-20", 1, 0, 0, -1)
    assert by_any[2] == ("2025-01-20", 0, 0, 1, -1)
    assert by_event[0] == by_any[0] == ("2025-01-06", 1, 0, 0, 0)


def test_time_zone_and_week_start() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-08T10:00:00+00:00"),
        ("a", "open", "2025-01-12T23:30:00+00:00"),  # Sunday in UTC, Monday in Paris
    ]
    assert states(lifecycle(rows)) == [("2025-01-06", 1, 0, 0, 0)]
    assert states(lifecycle(rows, tz="Europe/Paris")) == [
        ("2025-01-06", 1, 0, 0, 0),
        ("2025-01-13", 0, 1, 0, 0),
    ]
    assert states(lifecycle(rows, week_start="sunday")) == [
        ("2025-01-05", 1, 0, 0, 0),
        ("2025-01-12", 0, 1, 0, 0),
    ]


def test_empty_period_and_monthly() -> None:
    rows: list[Row] = [
        ("a", "open", "2025-01-10T10:00:00+00:00"),
        ("a", "open", "2025-03-10T10:00:00+00:00"),
    ]
    assert states(lifecycle(rows, period="month")) == [
        ("2025-01-01", 1, 0, 0, 0),
        ("2025-02-01", 0, 0, 0, -1),  # nobody active: an empty period still has its row
        ("2025-03-01", 0, 0, 1, 0),
    ]


def test_stickiness_by_hand() -> None:
    report = stickiness(MAIN)
    # a: 3 weeks, b: 2, c: 3, d: 1 of the 4 weeks W0..W3.
    assert report.counts == [
        {"periods": 1, "units": 1},
        {"periods": 2, "units": 1},
        {"periods": 3, "units": 2},
        {"periods": 4, "units": 0},
    ]
    assert report.avg_active_periods == 9 / 4
    assert report.total_periods == 4
    ranged = stickiness(MAIN, since=since("2025-01-13"), until=until("2025-01-26"))
    assert ranged.counts == [{"periods": 1, "units": 3}, {"periods": 2, "units": 1}]
    assert ranged.avg_active_periods == 5 / 4
    assert ranged.to_dict()["kind"] == "stickiness"
    assert ranged.to_rows()[0] == {"periods": 1, "units": 3, "share": 0.75}


def test_stickiness_with_no_activity() -> None:
    report = stickiness(MAIN, event=(Matcher("nope"),), since=since("2025-01-06"))
    assert report.counts == [{"periods": n, "units": 0} for n in range(1, 5)]
    assert report.avg_active_periods is None


@settings(max_examples=budget(0.5), deadline=None)
@given(seed=st.integers(0, 10**6), period=st.sampled_from(["day", "week", "month"]))
def test_lifecycle_identities(seed: int, period: per.Period) -> None:
    rng = random.Random(seed)
    frame = random_frame(rng, rng.randrange(1, 150), rng.randrange(1, 12), rng.randrange(1, 90))
    kw: dict[str, Any] = {
        "event": None if rng.random() < 0.5 else (Matcher("a"),),
        "period": period,
        "new_basis": rng.choice(["event", "first-any-event"]),
    }
    report = lifecycle(frame, **kw)
    # active(P) from the data, independently: distinct units per period.
    df = frame.collect()
    if kw["event"] is not None:
        df = df.filter(df["event"] == "a")
    active: dict[str, int] = {}
    if df.height:
        counted = (
            df.select(per.period_start(pl.col("timestamp"), period, "UTC").alias("d"), "user_id")
            .unique()
            .group_by("d")
            .len()
        )
        active = {d.isoformat(): int(n) for d, n in counted.iter_rows()}
    previous = 0
    for p in report.periods:
        assert p.dormant <= 0
        assert p.new + p.returning + p.resurrecting == active.get(p.period, 0)
        assert previous == p.returning - p.dormant
        previous = active.get(p.period, 0)
    shuffled = frame.collect().sample(fraction=1.0, shuffle=True, seed=seed).lazy()
    assert lifecycle(shuffled, **kw).to_dict() == report.to_dict()
    sticky = stickiness(frame, **{k: v for k, v in kw.items() if k != "new_basis"})
    assert sum(c["units"] for c in sticky.counts) == df["user_id"].n_unique()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("period", ["day", "week", "month"])
@pytest.mark.parametrize("basis", ["event", "first-any-event"])
def test_lifecycle_matches_duckdb(seed: int, period: str, basis: str) -> None:
    rng = random.Random(seed * 7 + len(period))
    frame = random_frame(rng, rng.randrange(50, 500), rng.randrange(3, 40), rng.randrange(20, 200))
    report = lifecycle(frame, event=(Matcher("a"), Matcher("b")), period=period, new_basis=basis)
    con = duck_events(frame)
    p = PERIOD_SQL[period]
    first = (
        f"SELECT user_id, min({p}) AS f FROM ev GROUP BY user_id"
        if basis == "first-any-event"
        else f"SELECT user_id, min({p}) AS f FROM ev WHERE event IN ('a', 'b') GROUP BY user_id"
    )
    rows = con.sql(
        f"""
        WITH act AS (SELECT DISTINCT user_id, {p} AS p FROM ev WHERE event IN ('a', 'b')),
             first AS ({first}),
             flags AS (
                SELECT a.p, a.p = f.f AS is_new,
                       EXISTS (SELECT 1 FROM act b WHERE b.user_id = a.user_id AND b.p = a.p - 1)
                         AS was_active
                FROM act a JOIN first f USING (user_id)),
             span AS (SELECT range AS p FROM range((SELECT min(p) FROM act),
                                                    (SELECT max({p}) FROM ev) + 1))
        SELECT span.p,
               (SELECT count(*) FROM flags WHERE flags.p = span.p AND is_new),
               (SELECT count(*) FROM flags WHERE flags.p = span.p AND was_active),
               (SELECT count(*) FROM flags WHERE flags.p = span.p AND NOT was_active
                    AND NOT is_new),
               -(SELECT count(*) FROM act a WHERE a.p = span.p - 1 AND NOT EXISTS
                    (SELECT 1 FROM act b WHERE b.user_id = a.user_id AND b.p = span.p))
        FROM span ORDER BY span.p
        """
    ).fetchall()
    expected = [
        (per.start_date(int(r[0]), period).isoformat(), *(int(x) for x in r[1:]))  # type: ignore[arg-type]
        for r in rows
    ]
    assert states(report) == expected
